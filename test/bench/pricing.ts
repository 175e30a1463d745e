/**
 * Pricing throughput: sessions priced per second on one core, with realistic tariffs that have
 * restrictions (time of day, day of week, current, power, duration) and 5-20 meter samples each,
 * starting at random times across a year in Europe/Amsterdam (so DST nights are included).
 * Bounded: each measurement runs for `measureMs`. Run: npm run bench:pricing
 */
import { byMaxDuration, byMaxPower, complex, element, stepSizes, tariff, time, energy, flat, parkingTime } from '../../domain/tariff/fixtures/index.js';
import { type MeterSample, parseTariff, priceMeterSamples, type SessionPrice } from '../../domain/tariff/index.js';

const measureMs = 4000;
const warmupMs = 1500;
const sessionsPrepared = 20_000;
const zone = 'Europe/Amsterdam';

const dayNight = tariff('dn', [
  element([flat(0.35, 21)]),
  element([energy(0.29, 21, 1)], { start_time: '23:00', end_time: '07:00' }),
  element([energy(0.45, 21, 1)], { day_of_week: ['SATURDAY', 'SUNDAY'] }),
  element([energy(0.59, 21, 1)], { max_power: 50 }),
  element([energy(0.69, 21, 1)]),
  element([parkingTime(6, 21, 60)], { min_duration: 14_400 }),
]);
const tariffs = [complex, stepSizes, byMaxPower, byMaxDuration, dayNight, tariff('t', [element([time(2, 21, 300), energy(0.3, 21, 1)])])].map((t) => parseTariff(t));

/** Deterministic pseudo-random numbers so runs are comparable. */
let seed = 42;
const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);

function randomSession(): MeterSample[] {
  const count = 5 + Math.floor(random() * 16); // 5-20 samples
  let t = Date.UTC(2024, 0, 1) + Math.floor(random() * 365 * 24 * 60) * 60_000;
  let wh = 0;
  const out: MeterSample[] = [];
  for (let i = 0; i < count; i++) {
    const parking = i > count * 0.7;
    const powerKw = parking ? 0 : 3 + random() * 147;
    out.push({ timestamp: new Date(t).toISOString(), energyWh: Math.round(wh), state: parking ? 'PARKING' : 'CHARGING', powerW: Math.round(powerKw * 1000), currentA: Math.round(powerKw * 4) });
    const minutes = 1 + Math.floor(random() * 45);
    t += minutes * 60_000;
    wh += (powerKw * 1000 * minutes) / 60;
  }
  return out;
}

const sessions = Array.from({ length: sessionsPrepared }, randomSession);
const samplesTotal = sessions.reduce((n, s) => n + s.length, 0);

function run(label: string, materialize: boolean): number {
  const consume = (p: SessionPrice): number => {
    if (!materialize) return p.charging_periods.length;
    let n = 0;
    for (const c of [p.total_cost, p.total_energy_cost, p.total_time_cost, p.total_parking_cost, p.total_fixed_cost, p.total_reservation_cost]) {
      n += c.excl_vat.decimal.e + c.incl_vat.decimal.e + c.excl_vat.fixed4.length + c.incl_vat.rounded2.length;
    }
    for (const period of p.charging_periods) n += period.start_date_time.length + period.energy.fixed4.length + period.duration.fixed4.length;
    return n + p.total_energy.decimal.e + p.total_time.decimal.e;
  };
  let sink = 0;
  let i = 0;
  const warmupEnd = performance.now() + warmupMs;
  while (performance.now() < warmupEnd) sink += consume(priceMeterSamples(tariffs[i % tariffs.length]!, sessions[i++ % sessions.length]!, { timeZone: zone }));
  let priced = 0;
  const start = performance.now();
  let now = start;
  while (now - start < measureMs) {
    for (let k = 0; k < 1000; k++, i++, priced++) sink += consume(priceMeterSamples(tariffs[i % tariffs.length]!, sessions[i % sessions.length]!, { timeZone: zone }));
    now = performance.now();
  }
  const perSecond = Math.round((priced / (now - start)) * 1000);
  console.log(`${label.padEnd(58)} ${perSecond.toLocaleString('en-US').padStart(9)} sessions/s  (${((now - start) * 1000 / priced).toFixed(2)} µs/session, sink ${sink % 10})`);
  return perSecond;
}

console.log(`pricing bench: ${tariffs.length} tariffs, ${sessionsPrepared} sessions, ${(samplesTotal / sessionsPrepared).toFixed(1)} samples/session avg, node ${process.version}, one core`);
const core = run('price (totals kept exact, Decimal/strings on demand)', false);
const full = run('price + read every total as Decimal, fixed4 and rounded2', true);
console.log(`target 100,000 sessions/s: ${core >= 100_000 ? 'met' : 'NOT met'} (core), ${full >= 100_000 ? 'met' : 'NOT met'} (with all outputs read)`);
