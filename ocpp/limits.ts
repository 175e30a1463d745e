/**
 * Every bound the OCPP gateway keeps, with its unit (docs/style.md: "a limit on everything").
 * The plugin options can override each one; these are the production defaults.
 */

/**
 * Largest WebSocket message we accept. OCPP-J sets no size; 64 KiB holds the biggest messages we
 * expect (a 10 000-char certificate chain, a NotifyReport page) with room to spare. A larger
 * frame is refused by ws before it is buffered: close 1009 "Message Too Big" (RFC 6455 §7.4.1).
 * We cannot answer it with a CALLERROR because that would mean reading and parsing it anyway.
 */
export const ocppFrameBytesMax = 64 * 1024;

/**
 * Deepest nesting of JSON arrays and objects in a frame, the frame's own array counting as 1. The
 * deepest messages the schemas allow are 2.0.1 ReportChargingProfiles.req (13 levels of payload,
 * so 14 in its frame; SetChargingProfile and RequestStartTransaction 12) and 1.6 MeterValues and
 * StopTransaction (5). 2.0.1 DataTransfer `data` is free JSON, so vendor payloads get more than
 * twice the deepest standard one. The bound exists because JSON.stringify, canonicalize and Ajv
 * recurse: a 50 KB frame nesting 25 000 arrays overflowed the stack in the replay fingerprint.
 * Checked on the raw text before JSON.parse (framing.ts), so a deep frame is never even built.
 */
export const ocppJsonDepthMax = 32;

/** OCPP-J 1.6 §4.1.3 and 2.0.1 Part 4 §4.1.3: a message id is at most 36 characters (a UUID). */
export const ocppMessageIdCharsMax = 36;

/** OCPP 2.0.1 Part 4 §3.1.1: the charging station identity is at most 48 characters. */
export const ocppStationIdCharsMax = 48;

/** OCPP-J 2.0.1 §4.2.3: errorDescription is at most 255 characters; we cut ours for both versions. */
export const ocppErrorDescriptionCharsMax = 255;

/**
 * CALLs a station may have waiting behind the one being handled. A station may send its next CALL
 * once its previous one timed out on its side (OCPP-J 1.6 §4.1.1, 2.0.1 Part 4 §4.1.1), while our
 * handler may still be busy, so we queue a few instead of refusing them; more is a misbehaving
 * station and gets a CALLERROR.
 */
export const ocppIncomingCallsQueuedMax = 4;

/** A handler that has not answered by then gets InternalError sent for it, so one stuck call cannot stall the station. */
export const ocppHandlerTimeoutMs = 30_000;

/** Recent answered message ids per station, replayed when a station repeats a CALL (e.g. after reconnecting). */
export const ocppRecentCallsMax = 16;

/** CSMS→station calls waiting per station, the one in flight included. */
export const ocppOutgoingQueueMax = 16;

/** Default time a CSMS→station call may take from `call()` to its answer, queueing included. */
export const ocppCallTimeoutMs = 30_000;

/**
 * How long a disconnected station keeps its outgoing queue and its recent answers. A station that
 * reconnects within it gets its pending calls re-sent; after it they fail with StationDisconnectedError.
 */
export const ocppReconnectWindowMs = 120_000;

/** WebSocket ping period; a peer that has not answered the previous ping by the next one is terminated. */
export const ocppPingIntervalMs = 60_000;

/** Longest a handshake may wait for `authenticateStation`, so a slow credential store cannot pile up sockets. */
export const ocppHandshakeTimeoutMs = 10_000;

/**
 * Answers waiting to be written to one station's socket (ws `bufferedAmount`: its own queue plus
 * the socket's). A peer that sends but never reads would otherwise grow it without end: a 2-byte
 * `[]` is answered with a ~100-byte CALLERROR, and 300 000 of them (2.4 MB sent) grew the server by
 * 180 MB. 16 largest frames is far more than a station that reads ever leaves unread; past it the
 * connection is terminated (reason `sendBufferFull`), the station may reconnect.
 */
export const ocppSendBufferBytesMax = 16 * ocppFrameBytesMax;

/**
 * Unreadable frames (not JSON, not an OCPP-J array, too deep, unstorable strings...) of one
 * connection logged and passed to `onInvalidMessage` per `ocppFrameFaultWindowMs`; later ones in the
 * window are still answered, but only counted. Unbounded, 300 000 two-byte `[]` frames wrote 300 000
 * log lines (65 MB) in 4 s. A working station sends none; a broken one shows why well within this.
 */
export const ocppFrameFaultsPerWindowMax = 100;
export const ocppFrameFaultWindowMs = 60_000;

/** An invalid frame is passed to `onInvalidMessage` by its first characters only: enough to see what went wrong, bounded in size. */
export const ocppInvalidFrameRecordCharsMax = 512;
