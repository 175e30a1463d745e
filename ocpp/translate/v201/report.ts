import {
  configurationEntriesPerCommandMax,
  configurationKey,
  stationEventsPerReportKeptMax,
  type ConfigurationEntry,
  type StationEventInput,
} from '../../../domain/station/index.js';
import type { Translation } from '../shared/context.js';
import { recordReport } from '../shared/reports.js';

interface ReportData {
  component: { name: string; instance?: string; evse?: { id: number; connectorId?: number } };
  variable: { name: string; instance?: string };
  variableAttribute: { type?: string; value?: string; mutability?: string }[];
}

/**
 * NotifyReport (2.0.1 B07/B08): each reported variable attribute becomes a configuration entry
 * keyed by `configurationKey`; only changes are recorded (the decider compares). A report larger
 * than one command takes is split; a key reported twice keeps its last value.
 */
export async function notifyReport201(translation: Translation, payload: { reportData?: ReportData[] }): Promise<unknown> {
  const entries = new Map<string, ConfigurationEntry>();
  for (const data of payload.reportData ?? []) {
    for (const attribute of data.variableAttribute) {
      const key = configurationKey({
        component: data.component.name,
        componentInstance: data.component.instance ?? null,
        evseId: data.component.evse?.id ?? null,
        connectorId: data.component.evse?.connectorId ?? null,
        variable: data.variable.name,
        variableInstance: data.variable.instance ?? null,
        attributeType: attribute.type ?? null,
      });
      entries.set(key, {
        key,
        value: attribute.value ?? null,
        // Mutability defaults to ReadWrite (VariableAttributeType).
        readonly: attribute.mutability === 'ReadOnly',
      });
    }
  }
  const all = [...entries.values()];
  for (let start = 0; start < all.length; start += configurationEntriesPerCommandMax) {
    await translation.send(
      { type: 'RecordConfiguration', entries: all.slice(start, start + configurationEntriesPerCommandMax) },
      translation.stationId,
      translation.commandId(`configuration-${start / configurationEntriesPerCommandMax}`),
    );
  }
  return {};
}

interface EventData201 {
  eventId: number;
  timestamp: string;
  trigger: string;
  cause?: number;
  actualValue: string;
  techCode?: string;
  techInfo?: string;
  cleared?: boolean;
  transactionId?: string;
  eventNotificationType: string;
  component: { name: string; instance?: string; evse?: { id: number; connectorId?: number } };
  variable: { name: string; instance?: string };
}

/**
 * NotifyEvent (2.0.1 N07/N08): one StationEventsReported per message, with the count and the first
 * `stationEventsPerReportKeptMax` events; a monitoring storm cannot grow the station stream unbounded.
 */
export async function notifyEvent201(
  translation: Translation,
  payload: { generatedAt: string; tbc?: boolean; seqNo: number; eventData: EventData201[] },
): Promise<unknown> {
  const events: StationEventInput[] = payload.eventData.slice(0, stationEventsPerReportKeptMax).map((data) => ({
    eventId: data.eventId,
    eventAt: data.timestamp,
    trigger: data.trigger,
    eventNotificationType: data.eventNotificationType,
    key: configurationKey({
      component: data.component.name,
      componentInstance: data.component.instance ?? null,
      evseId: data.component.evse?.id ?? null,
      connectorId: data.component.evse?.connectorId ?? null,
      variable: data.variable.name,
      variableInstance: data.variable.instance ?? null,
    }),
    actualValue: data.actualValue,
    cause: data.cause ?? null,
    techCode: data.techCode ?? null,
    techInfo: data.techInfo ?? null,
    cleared: data.cleared ?? null,
    stationTransactionId: data.transactionId ?? null,
  }));
  await recordReport(
    translation,
    { type: 'ReportStationEvents', generatedAt: payload.generatedAt, seqNo: payload.seqNo, tbc: payload.tbc ?? false, eventCount: payload.eventData.length, events },
    payload.generatedAt,
  );
  return {};
}
