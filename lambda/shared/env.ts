/**
 * Typed reading of environment variables, done once at cold start: a missing or malformed value fails loudly
 * with a ConfigurationError naming the variable and the bad value, instead of surfacing later as undefined.
 */
import { ConfigurationError, describeValue } from './errors';

/** Any string map; tests pass a literal instead of mutating process.env. */
export type EnvSource = Readonly<Record<string, string | undefined>>;

/** The value, or undefined when unset or empty (CloudFormation cannot set an unset variable, only an empty one). */
export function optionalEnv(name: string, source: EnvSource = process.env): string | undefined {
  const value = source[name];
  return value === undefined || value.trim() === '' ? undefined : value;
}

export function requireEnv(name: string, source: EnvSource = process.env): string {
  const value = optionalEnv(name, source);
  if (value === undefined) throw missingEnvError(name, source);
  return value;
}

function missingEnvError(name: string, source: EnvSource): ConfigurationError {
  return new ConfigurationError(`Environment variable ${name} is required but ${source[name] === undefined ? 'not set' : 'empty'}`);
}

export interface IntEnvOptions {
  /** Smallest accepted value (inclusive). */
  readonly min?: number;
  /** Largest accepted value (inclusive). */
  readonly max?: number;
  /** @default process.env */
  readonly source?: EnvSource;
}

/**
 * An integer variable; `defaultValue` applies only when unset or empty. Without a default the variable is required.
 * Rejects "12abc", "1.5" and "1e3", which parseInt would quietly accept or bend.
 */
export function intEnv(name: string, defaultValue?: number, options: IntEnvOptions = {}): number {
  const source = options.source ?? process.env;
  const raw = optionalEnv(name, source);
  if (raw === undefined) {
    if (defaultValue === undefined) throw missingEnvError(name, source);
    return checkRange(name, defaultValue, options);
  }
  const trimmed = raw.trim();
  const value = Number(trimmed);
  if (!/^[+-]?\d+$/.test(trimmed) || !Number.isSafeInteger(value)) {
    throw new ConfigurationError(`Environment variable ${name} must be an integer, got ${describeValue(raw)}`);
  }
  return checkRange(name, value, options);
}

function checkRange(name: string, value: number, options: IntEnvOptions): number {
  if ((options.min !== undefined && value < options.min) || (options.max !== undefined && value > options.max)) {
    throw new ConfigurationError(
      `Environment variable ${name} must be between ${options.min ?? '-∞'} and ${options.max ?? '∞'}, got ${value}`,
    );
  }
  return value;
}

const TRUE_VALUES: ReadonlySet<string> = new Set(['true', '1', 'yes', 'on']);
const FALSE_VALUES: ReadonlySet<string> = new Set(['false', '0', 'no', 'off']);

/** A boolean variable (true/false, 1/0, yes/no, on/off, any case); anything else is an error, not false. */
export function boolEnv(name: string, defaultValue?: boolean, source: EnvSource = process.env): boolean {
  const raw = optionalEnv(name, source);
  if (raw === undefined) {
    if (defaultValue === undefined) throw missingEnvError(name, source);
    return defaultValue;
  }
  const normalised = raw.trim().toLowerCase();
  if (TRUE_VALUES.has(normalised)) return true;
  if (FALSE_VALUES.has(normalised)) return false;
  throw new ConfigurationError(`Environment variable ${name} must be true or false, got ${describeValue(raw)}`);
}
