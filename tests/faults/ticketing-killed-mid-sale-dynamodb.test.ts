import { dynamoTestTarget } from '@dems/kit/testing';
import { dynamoDbEnv } from '../system/helpers.js';
import { describeKilledMidSale } from './killed-mid-sale.js';

const dynamo = dynamoTestTarget();

describeKilledMidSale('DynamoDB Local', () => dynamoDbEnv(dynamo.endpoint!, 'faults'), dynamo.skip);
