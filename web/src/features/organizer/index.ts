export { CreateEventPage } from './components/create-event-page';
export { EditEventPage } from './components/edit-event-page';
export { EventDashboardPage } from './components/event-dashboard-page';
export { MyEventsPage } from './components/my-events-page';
