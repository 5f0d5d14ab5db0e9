#!/usr/bin/env node
/**
 * CDK app entry: the sandbox copy of the trading platform stage (the pipeline stack joins with the delivery work).
 * Creates stacks and nothing else; configuration comes from lib/config.
 */
import { App } from 'aws-cdk-lib';
import { loadAppConfig } from '../lib/config';
import { registerNagPacks } from '../lib/compliance/nag';
import { TradingPlatformStage } from '../lib/stages/trading-platform-stage';

const app = new App();
const config = loadAppConfig(app.node, process.env);
registerNagPacks(app);
new TradingPlatformStage(app, `Sandbox-${config.sandbox.environmentSuffix}`, { config: config.sandbox });
app.synth();
