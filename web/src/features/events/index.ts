export { EventsPage } from './components/events-page';
export { EventView, type EventSlots } from './components/event-view';
