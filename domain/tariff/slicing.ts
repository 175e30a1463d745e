import type { CompiledTariff } from './compile.js';
import { refuse } from './errors.js';
import { pricingSlicesMax } from './limits.js';
import type { Segment, Segments } from './segments.js';
import { type OffsetReading, zoneOffsets } from './zone-offsets.js';

const dayMs = 86_400_000;

/** A piece of a segment inside which no restriction can change (OCPI: one ChargingPeriod). */
export interface Slice extends Segment {
  /** Location-local clock at the slice start. */
  localMsOfDay: number;
  localDay: number;
  isoWeekday: number;
}

/**
 * Cuts segments wherever an element's restriction could start or stop matching: local time-of-day
 * and midnight cut points, DST transitions (the local clock jumps), kWh thresholds (energy is
 * spread evenly over a segment) and session-duration thresholds. mod_cdrs "ChargingPeriod class"
 * asks the CPO to start a new period at each such moment; doing it here makes the price
 * independent of how the input happened to be split.
 */
export function sliceSegments(tariff: CompiledTariff, input: Segments, timeZone: string): Slice[] {
  const zone = zoneOffsets(timeZone);
  const reading: OffsetReading = { offsetMs: 0, untilMs: 0, transitionAtUntil: false };
  const slices: Slice[] = [];
  const cutTimes: number[] = [];
  const cutEnergies: number[] = [];

  for (const seg of input.segments) {
    cutTimes.length = 0;
    cutEnergies.length = 0;
    const eEnd = seg.energyStartMWh + seg.energyMWh;
    for (const d of tariff.durationCutsMs) {
      const t = input.sessionStartMs + d;
      if (t > seg.startMs && t < seg.endMs) pushCut(cutTimes, cutEnergies, t, Number.NaN);
    }
    if (seg.energyMWh > 0) {
      for (const e of tariff.energyCutsMWh) {
        if (e > seg.energyStartMWh && e < eEnd) {
          const t = seg.startMs + Math.round(((e - seg.energyStartMWh) / seg.energyMWh) * (seg.endMs - seg.startMs));
          pushCut(cutTimes, cutEnergies, t, e);
        }
      }
    }
    if (tariff.usesLocalTime) localCuts(tariff.localCutsMs, zone, reading, seg.startMs, seg.endMs, cutTimes, cutEnergies);
    emitSlices(seg, cutTimes, cutEnergies, slices);
    if (slices.length > pricingSlicesMax) refuse('session', `needs more than ${pricingSlicesMax} pricing slices`);
  }
  for (const slice of slices) {
    const offset = tariff.usesLocalTime ? zone.read(slice.startMs, reading).offsetMs : 0;
    const local = slice.startMs + offset;
    const day = Math.floor(local / dayMs);
    slice.localDay = day;
    slice.localMsOfDay = local - day * dayMs;
    slice.isoWeekday = ((((day + 3) % 7) + 7) % 7) + 1; // 1970-01-01 was a Thursday (ISO 4)
  }
  return slices;
}

function pushCut(times: number[], energies: number[], t: number, e: number): void {
  times.push(t);
  energies.push(e);
}

/** Local cut points in (startMs, endMs), walking offset validity windows so DST is honoured. */
function localCuts(cutsMs: readonly number[], zone: ReturnType<typeof zoneOffsets>, reading: OffsetReading, startMs: number, endMs: number, times: number[], energies: number[]): void {
  let t = startMs;
  while (t < endMs) {
    zone.read(t, reading);
    const local = t + reading.offsetMs;
    const day = Math.floor(local / dayMs);
    const msOfDay = local - day * dayMs;
    let nextLocal = Number.NaN;
    for (const cut of cutsMs) {
      if (cut > msOfDay) {
        nextLocal = day * dayMs + cut;
        break;
      }
    }
    if (Number.isNaN(nextLocal)) nextLocal = (day + 1) * dayMs + cutsMs[0]!;
    const candidate = nextLocal - reading.offsetMs;
    if (candidate < reading.untilMs) {
      if (candidate >= endMs) return;
      pushCut(times, energies, candidate, Number.NaN);
      t = candidate;
    } else {
      if (reading.untilMs >= endMs) return;
      // A cut exactly at the window end, or a DST transition there, is still a cut.
      if (reading.transitionAtUntil || candidate === reading.untilMs) pushCut(times, energies, reading.untilMs, Number.NaN);
      t = reading.untilMs;
    }
  }
}

function emitSlices(seg: Segment, times: number[], energies: number[], out: Slice[]): void {
  const durationMs = seg.endMs - seg.startMs;
  const eEnd = seg.energyStartMWh + seg.energyMWh;
  let order: number[] | undefined;
  if (times.length > 1) {
    order = times.map((_, i) => i);
    order.sort((a, b) => times[a]! - times[b]! || (Number.isNaN(energies[a]!) ? 1 : 0) - (Number.isNaN(energies[b]!) ? 1 : 0));
  }
  let prevT = seg.startMs;
  let prevE = seg.energyStartMWh;
  for (let k = 0; k <= times.length; k++) {
    let t: number;
    let e: number;
    if (k === times.length) {
      t = seg.endMs;
      e = eEnd;
    } else {
      const i = order ? order[k]! : k;
      t = times[i]!;
      e = energies[i]!;
      // Energy at a time cut: spread evenly, whole mWh so slices add up to the segment exactly.
      if (Number.isNaN(e)) e = durationMs > 0 ? seg.energyStartMWh + Math.round((seg.energyMWh * (t - seg.startMs)) / durationMs) : prevE;
    }
    if (t < prevT) t = prevT;
    if (e < prevE) e = prevE;
    if (e > eEnd) e = eEnd;
    if (t > prevT || e > prevE) {
      out.push({
        startMs: prevT,
        endMs: t,
        energyStartMWh: prevE,
        energyMWh: e - prevE,
        state: seg.state,
        powerKw: seg.powerKw,
        currentA: seg.currentA,
        localMsOfDay: 0,
        localDay: 0,
        isoWeekday: 0,
      });
    }
    prevT = t;
    prevE = e;
  }
}
