import { stationMeterReadingsPerCommandMax } from '../../../domain/station/decide-reports.js';
import type { StationReportCommand } from '../../../domain/station/report-commands.js';
import type { MeterReadingInput } from '../../../domain/transaction/commands.js';
import type { Translation } from './context.js';

/** Records a station report (firmware, log, security, reservation, limit, events) on the station stream. */
export async function recordReport(translation: Translation, command: StationReportCommand, occurredAt?: string): Promise<void> {
  await translation.send(command, translation.stationId, translation.commandId('report'), occurredAt);
}

/**
 * Meter values outside a transaction, on the station stream. Content-based command ids (the
 * readings carry station times), so a retry under a new message id appends nothing.
 */
export async function recordStationMeterValues(translation: Translation, evseId: number, readings: readonly MeterReadingInput[]): Promise<void> {
  for (let start = 0, part = 0; start < readings.length; start += stationMeterReadingsPerCommandMax, part += 1) {
    const chunk = readings.slice(start, start + stationMeterReadingsPerCommandMax);
    await translation.send(
      { type: 'RecordStationMeterReadings', evseId, readings: chunk },
      translation.stationId,
      translation.commandId(`station-readings-${part}`, { contentOnly: true }),
      chunk[0]!.sampledAt,
    );
  }
}
