import { dynamoTestTarget, uniqueTablePrefix } from '@dems/kit/testing';
import { describeKilledMidSale } from './killed-mid-sale.js';

const dynamo = dynamoTestTarget();

describeKilledMidSale(
  'DynamoDB Local',
  () => ({ STORE: 'dynamodb', DYNAMODB_ENDPOINT: dynamo.endpoint!, TABLE_PREFIX: uniqueTablePrefix('faults'), DYNAMODB_CREATE_TABLES: 'true' }),
  dynamo.skip,
);
