import { configurationEntriesPerCommandMax, configurationKey, type ConfigurationEntry } from '../../../domain/station/index.js';
import type { Translation } from '../shared/context.js';

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
