import { Decimal } from 'decimal.js';

/** Division precision for the Decimal view; exact values are terminating well within 40 digits. */
const PreciseDecimal = Decimal.clone({ precision: 40, rounding: Decimal.ROUND_HALF_UP });

/**
 * An exact rational amount (money or quantity) as BigInt numerator over a fixed denominator.
 * Pricing adds integers only, so nothing is lost before the one rounding at the edge; the Decimal
 * and string views are computed on first use because a running-cost caller rarely reads them all
 * (the benchmark showed 14 eager Decimal divisions costing more than the pricing itself).
 */
export class Exact {
  private decimalCache: Decimal | undefined;
  constructor(
    readonly numerator: bigint,
    readonly denominator: bigint,
  ) {}

  /** decimal.js value; shares Decimal.prototype, so `instanceof Decimal` holds. */
  get decimal(): Decimal {
    if (this.decimalCache === undefined) {
      // Money and quantities almost always terminate within 20 decimals: then one BigInt
      // division and a string parse beat a 40-digit Decimal division (~4x in the bench).
      const scaled = this.numerator * decimalsScale;
      const quotient = scaled / this.denominator;
      this.decimalCache =
        quotient * this.denominator === scaled
          ? new PreciseDecimal(withPoint(quotient, 20))
          : new PreciseDecimal(this.numerator.toString()).div(this.denominator.toString());
    }
    return this.decimalCache;
  }
  /** Rounded half away from zero to 4 decimals: the precision of an OCPI `number` field. */
  get fixed4(): string {
    return roundHalfUp(this.numerator, this.denominator, 4);
  }
  /** Rounded half away from zero to 2 decimals: the amount shown, invoiced and posted (ARCHITECTURE.md, Rounding). */
  get rounded2(): string {
    return roundHalfUp(this.numerator, this.denominator, 2);
  }
  toFixed(decimals: number): string {
    return roundHalfUp(this.numerator, this.denominator, decimals);
  }
  isZero(): boolean {
    return this.numerator === 0n;
  }
  toJSON(): string {
    return this.fixed4;
  }
}

const decimalsScale = 10n ** 20n;

function withPoint(value: bigint, decimals: number): string {
  const negative = value < 0n;
  const digits = (negative ? -value : value).toString().padStart(decimals + 1, '0');
  const text = `${digits.slice(0, digits.length - decimals)}.${digits.slice(digits.length - decimals)}`;
  return negative ? `-${text}` : text;
}

/** Rounds num/den to `decimals` places, ties away from zero, exactly (no binary floating point). */
export function roundHalfUp(num: bigint, den: bigint, decimals: number): string {
  const negative = num < 0n !== den < 0n && num !== 0n;
  const n = num < 0n ? -num : num;
  const d = den < 0n ? -den : den;
  const scale = 10n ** BigInt(decimals);
  const scaled = (n * scale * 2n + d) / (2n * d);
  const digits = scaled.toString().padStart(decimals + 1, '0');
  const whole = digits.slice(0, digits.length - decimals);
  const frac = digits.slice(digits.length - decimals);
  const text = decimals > 0 ? `${whole}.${frac}` : whole;
  return negative && scaled !== 0n ? `-${text}` : text;
}
