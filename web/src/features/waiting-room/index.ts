export { QueuedSale } from './components/queued-sale';
export { WaitingRoomSettings } from './components/waiting-room-settings';
