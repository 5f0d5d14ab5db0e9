/**
 * What the AWS FIS API answers to the calls the game day makes (REST, JSON bodies with lower-camel-case members), as
 * the FIS API Reference documents them. No local emulator implements FIS, so the game day's FIS adapter is tested
 * against a local HTTP stand-in that serves these shapes.
 */

/** A summary as ListExperimentTemplates lists it (API_ExperimentTemplateSummary: id, arn, description, times, tags). */
export interface ExperimentTemplateSummary {
  readonly id: string;
  readonly arn: string;
  readonly description: string;
  readonly creationTime: number;
  readonly lastUpdateTime: number;
  readonly tags: Readonly<Record<string, string>>;
}

export function experimentTemplateSummary(id: string, tags: Readonly<Record<string, string>>, account = '222222222222'): ExperimentTemplateSummary {
  return {
    id,
    arn: `arn:aws:fis:us-east-1:${account}:experiment-template/${id}`,
    description: `template ${id}`,
    // Timestamps are epoch seconds in FIS's JSON (restJson1 timestamps).
    creationTime: 1_767_225_600,
    lastUpdateTime: 1_767_225_600,
    tags,
  };
}

/**
 * GET /experimentTemplates?maxResults=&nextToken= (API_ListExperimentTemplates.html,
 * https://docs.aws.amazon.com/fis/latest/APIReference/API_ListExperimentTemplates.html): a page of summaries and,
 * while more remain, a nextToken to pass back.
 */
export function listExperimentTemplatesAnswer(templates: readonly ExperimentTemplateSummary[], nextToken?: string): string {
  return JSON.stringify({ experimentTemplates: templates, ...(nextToken === undefined ? {} : { nextToken }) });
}

/** ExperimentState.status (API_ExperimentState.html): the experiment's lifecycle. */
export type FisExperimentStatus = 'pending' | 'initiating' | 'running' | 'completed' | 'stopping' | 'stopped' | 'failed' | 'cancelled';

/** ExperimentActionState.status (API_ExperimentActionState.html). */
export type FisActionStatus = 'pending' | 'initiating' | 'running' | 'completed' | 'cancelled' | 'stopping' | 'stopped' | 'failed' | 'skipped';

/**
 * The `experiment` member of StartExperiment's and GetExperiment's answers (API_Experiment.html,
 * https://docs.aws.amazon.com/fis/latest/APIReference/API_GetExperiment.html): id, the template, state with an optional
 * reason, and each action with its own state.
 */
export function experiment(
  id: string,
  templateId: string,
  status: FisExperimentStatus,
  actions: Readonly<Record<string, { readonly actionId: string; readonly status: FisActionStatus }>>,
  reason?: string,
): Record<string, unknown> {
  return {
    id,
    arn: `arn:aws:fis:us-east-1:222222222222:experiment/${id}`,
    experimentTemplateId: templateId,
    roleArn: 'arn:aws:iam::222222222222:role/role-fis-aurora-failover-us-east-1-stg',
    state: { status, ...(reason === undefined ? {} : { reason }) },
    targets: {},
    actions: Object.fromEntries(Object.entries(actions).map(([name, action]) => [name, { actionId: action.actionId, state: { status: action.status } }])),
    stopConditions: [{ source: 'aws:cloudwatch:alarm', value: 'arn:aws:cloudwatch:us-east-1:222222222222:alarm:alarm-platform-degraded-us-east-1-stg' }],
    creationTime: 1_767_225_600,
    startTime: 1_767_225_601,
    tags: {},
  };
}

/** POST /experiments and GET /experiments/{id} both answer `{"experiment": {...}}` (API_StartExperiment.html). */
export function experimentAnswer(value: Record<string, unknown>): string {
  return JSON.stringify({ experiment: value });
}

/**
 * An error answer: FIS's restJson1 errors carry a `message` member (API Reference, Common Errors and each operation's
 * Errors: ConflictException 409, ResourceNotFoundException 404, ValidationException 400).
 */
export function fisError(message: string): string {
  return JSON.stringify({ message });
}
