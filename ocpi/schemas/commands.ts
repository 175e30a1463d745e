import { z } from 'zod';
import { ciIdentifier, dateTimeSchema, displayTextsSchema, ocpiInt, urlSchema } from './primitives.js';
import { tokenSchema } from './tokens.js';

/** The Commands module of OCPI 2.2.1 (mod_commands.asciidoc). */

export const commandTypes = ['CANCEL_RESERVATION', 'RESERVE_NOW', 'START_SESSION', 'STOP_SESSION', 'UNLOCK_CONNECTOR'] as const;
/** TIMEOUT left this enum in 2.2; it is a CommandResultType now. */
export const commandResponseTypes = ['NOT_SUPPORTED', 'REJECTED', 'ACCEPTED', 'UNKNOWN_SESSION'] as const;
export const commandResultTypes = [
  'ACCEPTED', 'CANCELED_RESERVATION', 'EVSE_OCCUPIED', 'EVSE_INOPERATIVE', 'FAILED', 'NOT_SUPPORTED',
  'REJECTED', 'TIMEOUT', 'UNKNOWN_RESERVATION',
] as const;

export const commandTypeSchema = z.enum(commandTypes);

export const cancelReservationSchema = z.object({
  response_url: urlSchema,
  reservation_id: ciIdentifier(36),
});

export const reserveNowSchema = z.object({
  response_url: urlSchema,
  token: tokenSchema,
  expiry_date: dateTimeSchema,
  reservation_id: ciIdentifier(36),
  location_id: ciIdentifier(36),
  evse_uid: ciIdentifier(36).optional(),
  authorization_reference: ciIdentifier(36).optional(),
});

/**
 * "StartSession Object". connector_id is new in 2.2.1, for EVSEs with the capability
 * START_SESSION_CONNECTOR_REQUIRED; a connector only means something within an EVSE, so
 * connector_id needs evse_uid.
 */
export const startSessionSchema = z
  .object({
    response_url: urlSchema,
    token: tokenSchema,
    location_id: ciIdentifier(36),
    evse_uid: ciIdentifier(36).optional(),
    connector_id: ciIdentifier(36).optional(),
    authorization_reference: ciIdentifier(36).optional(),
  })
  .refine((start) => start.connector_id === undefined || start.evse_uid !== undefined, {
    message: 'evse_uid is required when connector_id is given',
    path: ['evse_uid'],
  });

export const stopSessionSchema = z.object({
  response_url: urlSchema,
  session_id: ciIdentifier(36),
});

export const unlockConnectorSchema = z.object({
  response_url: urlSchema,
  location_id: ciIdentifier(36),
  evse_uid: ciIdentifier(36),
  connector_id: ciIdentifier(36),
});

/** The request body for each CommandType (Receiver "POST Method", "Request Body"). */
export const commandRequestSchemas = {
  CANCEL_RESERVATION: cancelReservationSchema,
  RESERVE_NOW: reserveNowSchema,
  START_SESSION: startSessionSchema,
  STOP_SESSION: stopSessionSchema,
  UNLOCK_CONNECTOR: unlockConnectorSchema,
} as const satisfies Record<CommandType, z.ZodType>;

export const commandResponseSchema = z.object({
  result: z.enum(commandResponseTypes),
  /** Seconds the eMSP waits for the CommandResult before it may assume none will come. */
  timeout: ocpiInt.nonnegative(),
  message: displayTextsSchema.optional(),
});

export const commandResultSchema = z.object({
  result: z.enum(commandResultTypes),
  message: displayTextsSchema.optional(),
});

export type CommandType = (typeof commandTypes)[number];
export type CommandResponseType = (typeof commandResponseTypes)[number];
export type CommandResultType = (typeof commandResultTypes)[number];
export type CancelReservation = z.infer<typeof cancelReservationSchema>;
export type ReserveNow = z.infer<typeof reserveNowSchema>;
export type StartSession = z.infer<typeof startSessionSchema>;
export type StopSession = z.infer<typeof stopSessionSchema>;
export type UnlockConnector = z.infer<typeof unlockConnectorSchema>;
export type CommandResponse = z.infer<typeof commandResponseSchema>;
export type CommandResult = z.infer<typeof commandResultSchema>;
