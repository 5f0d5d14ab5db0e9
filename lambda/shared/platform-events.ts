/**
 * What every event the platform puts on its bus has in common: its source, which the bus rules match on. A module of
 * its own, free of dependencies, so that the CDK app and every function bundle can import it for nothing.
 */

/** The source of every platform event (order, session and health events alike). */
export const PLATFORM_EVENT_SOURCE = 'trading.platform';
