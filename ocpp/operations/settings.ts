import { InvalidCommandError } from '../../domain/shared/errors.js';
import { configurationKey } from '../../domain/station/commands.js';

/** A 2.0.1 component/variable as GetVariables and SetVariables address it. */
export interface VariableAddress {
  readonly component: { readonly name: string; readonly instance?: string; readonly evse?: { readonly id: number; readonly connectorId?: number } };
  readonly variable: { readonly name: string; readonly instance?: string };
  /** Absent: Actual. */
  readonly attributeType?: string;
}

// The inverse of `configurationKey`: Component[instance]@evse.connector/Variable[instance]:AttributeType.
const keyPattern = /^([^[\]@/:]+)(?:\[([^\]]+)\])?(?:@(\d+)(?:\.(\d+))?)?\/([^[\]@/:]+)(?:\[([^\]]+)\])?(?::(Actual|Target|MinSet|MaxSet))?$/;

/**
 * Reads a configuration key as the station aggregate records 2.0.1 variables, so operators use
 * one spelling for reading, writing and the read model. 1.6 keys (no '/') are refused here.
 */
export function parseConfigurationKey(key: string, operationName = 'settings'): VariableAddress {
  const match = keyPattern.exec(key);
  if (!match) throw new InvalidCommandError(`${key} is not a 2.0.1 component/variable key (e.g. OCPPCommCtrlr/HeartbeatInterval)`, operationName);
  const [, component, componentInstance, evseId, connectorId, variable, variableInstance, attributeType] = match;
  const address: VariableAddress = {
    component: {
      name: component!,
      ...(componentInstance !== undefined ? { instance: componentInstance } : {}),
      ...(evseId !== undefined ? { evse: { id: Number(evseId), ...(connectorId !== undefined ? { connectorId: Number(connectorId) } : {}) } } : {}),
    },
    variable: { name: variable!, ...(variableInstance !== undefined ? { instance: variableInstance } : {}) },
    ...(attributeType !== undefined ? { attributeType } : {}),
  };
  // Rendering it back must give the same key, or the read model and the operator would disagree on names.
  const rendered = configurationKey({
    component: address.component.name,
    componentInstance: address.component.instance ?? null,
    evseId: address.component.evse?.id ?? null,
    connectorId: address.component.evse?.connectorId ?? null,
    variable: address.variable.name,
    variableInstance: address.variable.instance ?? null,
    attributeType: address.attributeType ?? null,
  });
  if (rendered !== key && rendered !== key.replace(/:Actual$/, '')) {
    throw new InvalidCommandError(`${key} is not in canonical form (${rendered})`, operationName);
  }
  return address;
}
