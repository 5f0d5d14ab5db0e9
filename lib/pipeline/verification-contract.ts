/**
 * What the pipeline's post-deploy checks put into a stage and look for there, in one place: the stage's check roles
 * allow exactly this, and scripts/staging-verification.ts sends exactly this. No CDK imports, so the scripts can load it.
 */
import { PLATFORM_EVENT_SOURCE } from '../../lambda/shared/platform-events';

/**
 * The synthetic event the verification puts on the platform bus. Its source is the platform's own, because the
 * `critical` rule matches that source with `severity: CRITICAL`; its detail type is the verification's own, so the
 * check role may put this event and no order or health event (IAM condition keys `events:source`, `events:detail-type`).
 */
export const VERIFICATION_EVENT = {
  source: PLATFORM_EVENT_SOURCE,
  detailType: 'PipelineVerification',
} as const;

/** The account the verification books its orders to, kept apart from real accounts so they are easy to find and ignore. */
export const VERIFICATION_ACCOUNT_ID = 'pipeline-verification';
