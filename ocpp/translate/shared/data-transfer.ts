import type { Translation } from './context.js';

export type DataTransferStatus = 'Accepted' | 'Rejected' | 'UnknownMessageId' | 'UnknownVendorId';

export interface DataTransferRequest {
  readonly vendorId: string;
  readonly messageId: string | null;
  /** 1.6: a string; 2.0.1: any JSON. */
  readonly data: unknown;
}

/** A vendor's DataTransfer extension. Its answer is sent as is (the gateway validates it). */
export type DataTransferHandler = (
  station: { readonly tenantId: string; readonly stationId: string; readonly ocppMessageId: string },
  request: DataTransferRequest,
) => Promise<{ status: DataTransferStatus; data?: unknown }>;

/**
 * DataTransfer in both versions: a registered vendor handler answers; any other vendor gets
 * UnknownVendorId (1.6 §4.3, 2.0.1 P01.FR.06). Nothing is recorded: vendor data has no domain meaning.
 */
export async function answerDataTransfer(translation: Translation, request: DataTransferRequest): Promise<Record<string, unknown>> {
  const handler = translation.deps.dataTransferHandlers?.[request.vendorId];
  if (!handler) return { status: 'UnknownVendorId' };
  const answer = await handler(
    { tenantId: translation.tenantId, stationId: translation.stationId, ocppMessageId: translation.call.messageId },
    request,
  );
  return answer.data === undefined ? { status: answer.status } : { status: answer.status, data: answer.data };
}
