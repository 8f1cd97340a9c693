export { RsvpCard } from './components/rsvp-card';
export { MyRegistrationsPage } from './components/my-registrations-page';
