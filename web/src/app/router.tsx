import { lazy } from 'react';
import { createBrowserRouter, useParams } from 'react-router';
import { SignInPage, SignUpPage } from '@/features/auth';
import { EventsPage, EventView } from '@/features/events';
import { NotificationsPage } from '@/features/notifications';
import { MyRegistrationsPage, RsvpCard } from '@/features/registrations';
import { BuyTickets, MyTicketsPage } from '@/features/tickets';
import { QueuedSale, WaitingRoomSettings } from '@/features/waiting-room';
import { AppLayout } from './layout/app-layout';
import { NotFoundPage } from './layout/not-found-page';
import { RequireSignIn, SignInMoved } from './require-sign-in';

// Organizer pages load on first use: most visitors are attendees and never need their code.
const organizer = () => import('@/features/organizer');
const MyEventsPage = lazy(() => organizer().then((m) => ({ default: m.MyEventsPage })));
const CreateEventPage = lazy(() => organizer().then((m) => ({ default: m.CreateEventPage })));
const EventDashboardPage = lazy(() => organizer().then((m) => ({ default: m.EventDashboardPage })));
const EditEventPage = lazy(() => organizer().then((m) => ({ default: m.EditEventPage })));

/** The event page is where features meet: events owns the page, tickets and registrations fill its slots. */
function EventRoute() {
  const { id = '' } = useParams();
  return (
    <EventView
      key={id}
      id={id}
      slots={{
        // A queued sale puts its waiting room in front of the ticket list and hands it the pass to buy with.
        tickets: (event, availability) => <QueuedSale event={event}>{(queuePass) => <BuyTickets event={event} availability={availability} queuePass={queuePass} />}</QueuedSale>,
        rsvp: (event) => <RsvpCard event={event} />,
      }}
    />
  );
}

function ParamPage({ render }: { render: (id: string) => React.ReactNode }) {
  const { id = '' } = useParams();
  return <>{render(id)}</>;
}

export const routes = [
  {
    element: <AppLayout />,
    children: [
      { path: '/', element: <EventsPage /> },
      { path: '/events/:id', element: <EventRoute /> },
      { path: '/signin', element: <SignInPage /> },
      { path: '/login', element: <SignInMoved /> },
      { path: '/signup', element: <SignUpPage /> },
      {
        element: <RequireSignIn />,
        children: [
          { path: '/tickets', element: <MyTicketsPage /> },
          { path: '/registrations', element: <MyRegistrationsPage /> },
          { path: '/notifications', element: <NotificationsPage /> },
        ],
      },
      {
        element: <RequireSignIn role="organizer" />,
        children: [
          { path: '/organizer', element: <MyEventsPage /> },
          { path: '/organizer/events/new', element: <CreateEventPage /> },
          {
            path: '/organizer/events/:id',
            element: <ParamPage render={(id) => <EventDashboardPage key={id} id={id} sections={(event) => <WaitingRoomSettings event={event} />} />} />,
          },
          { path: '/organizer/events/:id/edit', element: <ParamPage render={(id) => <EditEventPage key={id} id={id} />} /> },
        ],
      },
      { path: '*', element: <NotFoundPage /> },
    ],
  },
];

export const router = createBrowserRouter(routes);
