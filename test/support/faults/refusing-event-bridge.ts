/**
 * EventBridge (moto) behind a fault proxy that refuses chosen entries the way EventBridge does: the other entries of
 * the call are forwarded to moto, which really puts them on its bus, and its results are put back in their positions,
 * so the client gets AWS's documented partial failure (HTTP 200, FailedEntryCount, one result per entry).
 */
import { EventBridgeClient, type PutEventsRequestEntry, type PutEventsResultEntry } from '@aws-sdk/client-eventbridge';
import { createAwsClient, type CallDeadlines } from '../../../lambda/shared/aws-clients';
import { eventBridgePutEvents, type PutEventsPort } from '../../../lambda/shared/event-publisher';
import { putEventsAnswer } from '../aws-contracts/eventbridge';
import { awsClientConfig } from '../services';
import { startFaultProxy, type FaultProxy, type ProxiedCall } from './http-fault-proxy';

/** The JSON-protocol target of PutEvents, as the proxy records it. */
export const PUT_EVENTS_TARGET = 'AWSEvents.PutEvents';

/** What to answer for an entry of the `callOrdinal`-th PutEvents call: a refused result entry, or undefined to forward it. */
export type EntryRefusal = (callOrdinal: number, entry: PutEventsRequestEntry) => PutEventsResultEntry | undefined;

export interface RefusingEventBridge {
  readonly putEvents: PutEventsPort;
  readonly proxy: FaultProxy;
  /** The entries of each PutEvents call so far, in order. */
  entriesOfCalls(): PutEventsRequestEntry[][];
  close(): Promise<void>;
}

export async function startRefusingEventBridge(refuse: EntryRefusal, deadlines: CallDeadlines): Promise<RefusingEventBridge> {
  const proxy = await startFaultProxy(awsClientConfig().endpoint, (call) => {
    if (call.target !== PUT_EVENTS_TARGET) return { kind: 'pass' };
    return {
      kind: 'answer',
      answer: async (forward) => {
        const entries = entriesOf(call);
        const refusals = entries.map((entry) => refuse(call.ordinal, entry));
        const kept = entries.filter((_entry, index) => refusals[index] === undefined);
        const accepted: PutEventsResultEntry[] =
          kept.length === 0 ? [] : (JSON.parse((await forward(JSON.stringify({ ...JSON.parse(call.body), Entries: kept }))).body) as { Entries: PutEventsResultEntry[] }).Entries;
        const results = refusals.map((refusal) => refusal ?? accepted.shift() ?? {});
        return { status: 200, headers: { 'content-type': 'application/x-amz-json-1.1' }, body: putEventsAnswer(results) };
      },
    };
  });
  const client = createAwsClient(EventBridgeClient, { deadlines, extra: { ...awsClientConfig(), endpoint: proxy.endpoint } });
  return {
    putEvents: eventBridgePutEvents(client),
    proxy,
    entriesOfCalls: () => proxy.calls(PUT_EVENTS_TARGET).map(entriesOf),
    close: async () => {
      client.destroy();
      await proxy.close();
    },
  };
}

function entriesOf(call: ProxiedCall): PutEventsRequestEntry[] {
  return (JSON.parse(call.body) as { Entries: PutEventsRequestEntry[] }).Entries;
}
