/**
 * The sessions function's settings, parsed once at cold start from its environment.
 * A missing table name or an out-of-range TTL fails the cold start with a ConfigurationError naming the variable.
 */
import { intEnv, requireEnv, type EnvSource } from '../shared/env';
import { defaultRefreshGranularity, type SessionConfig } from './session-service';

export interface SessionSettings extends SessionConfig {
  readonly tableName: string;
}

/** SESSION_TABLE_NAME (required); SESSION_TTL_SECONDS (default 3600, 60 s to 30 days). */
export function sessionSettingsFromEnv(source: EnvSource = process.env): SessionSettings {
  // Under a minute, a session would expire between two clicks; DynamoDB TTL ignores dates over five years away anyway.
  const ttlSeconds = intEnv('SESSION_TTL_SECONDS', 3_600, { min: 60, max: 30 * 24 * 3_600, source });
  return {
    tableName: requireEnv('SESSION_TABLE_NAME', source),
    ttlSeconds,
    refreshGranularitySeconds: defaultRefreshGranularity(ttlSeconds),
  };
}
