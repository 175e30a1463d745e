import { IANAZone } from 'luxon';
import { refuse } from './errors.js';
import { zoneOffsetCacheHoursMax } from './limits.js';

const hourMs = 3_600_000;

/** What is known about one UTC hour of a zone: the offset, and a transition inside it if any. */
interface HourOffsets {
  readonly beforeMs: number;
  /** UTC instant (ms) where the offset changes inside this hour, or NaN. */
  readonly transitionAtMs: number;
  readonly afterMs: number;
}

/**
 * The offset in force at one instant, how long it is known to stay (`untilMs`, exclusive) and
 * whether the offset changes at `untilMs` (a DST transition) or the cache entry merely ends.
 */
export interface OffsetReading {
  offsetMs: number;
  untilMs: number;
  transitionAtUntil: boolean;
}

/**
 * UTC offsets of one IANA zone, cached per UTC hour. luxon's IANAZone.offset costs ~5 µs (it
 * formats with Intl); pricing needs an offset at every slice, so without this cache the zone
 * lookups alone would cap the engine near 20,000 sessions/s. Real transitions happen at most
 * once per hour, so an hour whose two ends agree has one offset throughout.
 */
export class ZoneOffsets {
  private readonly zone: IANAZone;
  private readonly hours = new Map<number, HourOffsets>();

  constructor(readonly name: string) {
    if (!IANAZone.isValidZone(name)) refuse('time_zone', `${name} is not an IANA time zone`);
    this.zone = IANAZone.create(name);
  }

  /** Fills `out` (reused to avoid an allocation per slice) for instant `utcMs`. */
  read(utcMs: number, out: OffsetReading): OffsetReading {
    const hourStart = Math.floor(utcMs / hourMs) * hourMs;
    let entry = this.hours.get(hourStart);
    if (entry === undefined) {
      if (this.hours.size >= zoneOffsetCacheHoursMax) this.hours.clear();
      entry = this.computeHour(hourStart);
      this.hours.set(hourStart, entry);
    }
    if (Number.isNaN(entry.transitionAtMs)) {
      out.offsetMs = entry.beforeMs;
      out.untilMs = hourStart + hourMs;
      out.transitionAtUntil = false;
    } else if (utcMs < entry.transitionAtMs) {
      out.offsetMs = entry.beforeMs;
      out.untilMs = entry.transitionAtMs;
      out.transitionAtUntil = true;
    } else {
      out.offsetMs = entry.afterMs;
      out.untilMs = hourStart + hourMs;
      out.transitionAtUntil = false;
    }
    return out;
  }

  private offsetMs(utcMs: number): number {
    return this.zone.offset(utcMs) * 60_000;
  }

  private computeHour(hourStart: number): HourOffsets {
    const beforeMs = this.offsetMs(hourStart);
    const nextMs = this.offsetMs(hourStart + hourMs);
    if (beforeMs === nextMs) return { beforeMs, transitionAtMs: Number.NaN, afterMs: beforeMs };
    // Binary search on whole seconds for the first instant with the new offset.
    let lo = hourStart; // has the old offset
    let hi = hourStart + hourMs; // has the new offset
    while (hi - lo > 1000) {
      const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
      if (this.offsetMs(mid) === beforeMs) lo = mid;
      else hi = mid;
    }
    return { beforeMs, transitionAtMs: hi, afterMs: nextMs };
  }
}

const zones = new Map<string, ZoneOffsets>();

/** One shared cache per zone name: pure memoisation, results do not depend on call order. */
export function zoneOffsets(name: string): ZoneOffsets {
  let zone = zones.get(name);
  if (zone === undefined) {
    zone = new ZoneOffsets(name);
    zones.set(name, zone);
  }
  return zone;
}
