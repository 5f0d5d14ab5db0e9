/**
 * What CloudWatch Logs answers to FilterLogEvents, and what EventBridge writes into a log group it targets, as AWS
 * documents them, for the verification's checks of the audit and access logs.
 */
import type { FilteredLogEvent } from '@aws-sdk/client-cloudwatch-logs';

/**
 * The JSON answer of FilterLogEvents (CloudWatch Logs API Reference, FilterLogEvents, Response Syntax:
 * https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_FilterLogEvents.html): `events` with
 * logStreamName, timestamp and ingestionTime in epoch milliseconds, message and eventId; `nextToken` while more pages
 * may hold results. "This operation can return empty results while there are more log events available through the
 * token", so an empty page with a token is a valid answer.
 */
export function filterLogEventsAnswer(events: readonly FilteredLogEvent[], nextToken?: string): string {
  return JSON.stringify({ events, searchedLogStreams: [], ...(nextToken === undefined ? {} : { nextToken }) });
}

/** One filtered log event around `message`, as FilterLogEvents returns it. */
export function filteredLogEvent(message: string, timestamp: number, logStreamName = '2026/11/25/[$LATEST]0123456789abcdef'): FilteredLogEvent {
  return { logStreamName, timestamp, ingestionTime: timestamp + 250, message, eventId: `${timestamp}000000000000000000000000000000000000000000000000` };
}

/**
 * The log message EventBridge writes for an event matched by a rule with a CloudWatch Logs target and no input
 * transformer: the whole event, in the envelope of "Amazon EventBridge events" (EventBridge Events Reference, Event
 * structure: https://docs.aws.amazon.com/eventbridge/latest/ref/events-structure.html): version, id, detail-type,
 * source, account, time, region, resources, detail.
 */
export function eventBridgeLogMessage(event: { readonly detailType: string; readonly source: string; readonly detail: unknown; readonly id?: string; readonly account?: string; readonly time?: string }): string {
  return JSON.stringify({
    version: '0',
    id: event.id ?? '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
    'detail-type': event.detailType,
    source: event.source,
    account: event.account ?? '222222222222',
    time: event.time ?? '2026-11-25T16:00:00Z',
    region: 'us-east-1',
    resources: [],
    detail: event.detail,
  });
}

/** The JSON error answer of the AWS JSON 1.1 protocol: HTTP 400 and `__type` naming the error (Smithy, awsJson1_1). */
export function jsonProtocolError(type: string, message: string): string {
  return JSON.stringify({ __type: type, message });
}
