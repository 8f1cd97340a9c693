import { describeKilledMidSale } from './killed-mid-sale.js';

describeKilledMidSale('SQLite (three processes sharing one file)', () => ({}));
