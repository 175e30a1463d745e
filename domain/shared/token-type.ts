/** OCPI 2.2.1 TokenType (mod_tokens). */
export const ocpiTokenTypes = ['AD_HOC_USER', 'APP_USER', 'OTHER', 'RFID'] as const;
export type OcpiTokenType = (typeof ocpiTokenTypes)[number];

/**
 * The one mapping from a recorded id token type (OCPP 2.0.1 IdTokenEnumType, 1.6's gateway default
 * 'ISO14443', or an OCPI TokenType kept on our token) to OCPI TokenType, so that a Session, its CDR
 * and a real-time authorization name the same type. Cards and keys are RFID. 'Central' is what an
 * OCPI START_SESSION of an APP_USER (or AD_HOC_USER/OTHER) token and an operator's remote start
 * become at the station, and an eMAID is a contract used from an app or the car: APP_USER. What
 * OCPI has no word for (NoAuthorization, MacAddress) is OTHER.
 */
export function ocpiTokenTypeOf(type: string): OcpiTokenType {
  if ((ocpiTokenTypes as readonly string[]).includes(type)) return type as OcpiTokenType;
  if (type === 'ISO14443' || type === 'ISO15693' || type === 'Local' || type === 'KeyCode') return 'RFID';
  if (type === 'Central' || type === 'eMAID') return 'APP_USER';
  return 'OTHER';
}
