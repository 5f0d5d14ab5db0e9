/**
 * What EventBridge answers to PutEvents when it refuses entries: the shapes moto never produces (it does not throttle),
 * so a fault proxy in front of moto can give the handler AWS's answer.
 */
import type { PutEventsResultEntry } from '@aws-sdk/client-eventbridge';

/**
 * A result entry EventBridge throttled. Per PutEventsResultEntry
 * (https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEventsResultEntry.html) a failed entry has
 * ErrorCode and ErrorMessage and no EventId; ThrottlingException and InternalFailure are the documented retryable codes.
 */
export function throttledPutEventsEntry(): PutEventsResultEntry {
  return refusedPutEventsEntry('ThrottlingException', 'Rate exceeded');
}

/** A result entry EventBridge refused with `code` (same page: ErrorCode and ErrorMessage, no EventId). */
export function refusedPutEventsEntry(code: string, message: string): PutEventsResultEntry {
  return { ErrorCode: code, ErrorMessage: message };
}

/**
 * The answer to a PutEvents call in which some entries were refused: HTTP 200 with FailedEntryCount and one result per
 * request entry, in request order ("Sending events with PutEvents", Handling failures with PutEvents:
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-putevents.html).
 */
export function putEventsAnswer(entries: readonly PutEventsResultEntry[]): string {
  return JSON.stringify({ FailedEntryCount: entries.filter((entry) => entry.ErrorCode !== undefined).length, Entries: entries });
}
