import { ErrorBody, EventRegistrationListQuery, IdParams, Ok, RegisterBody, Registration, RegistrationList, RegistrationListQuery } from '@dems/contracts';
import { requireSignedIn, type App } from '@dems/kit';
import type { EventsStore } from '../store/events-store.js';
import { eventToManage } from '../use-cases/event-to-manage.js';
import { registerForEvent } from '../use-cases/register-for-event.js';
import { withdrawRegistration } from '../use-cases/withdraw-registration.js';
import { EventIdParams } from './events.js';

const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody };
const security = [{ bearer: [] }];

export async function registrationRoutes(app: App, { store }: { store: EventsStore }): Promise<void> {
  app.post(
    '/register',
    {
      schema: {
        tags: ['registrations'],
        summary: 'Register (RSVP) for an event; registering again returns the same registration with 200',
        security,
        body: RegisterBody,
        response: { 200: Registration, 201: Registration, ...errors },
      },
    },
    async (req, reply) => {
      const user = requireSignedIn(req);
      const { registration, created } = await registerForEvent(store, req.body.eventId, { id: user.id, name: user.name, email: user.email });
      return reply.code(created ? 201 : 200).send(registration);
    },
  );

  app.delete(
    '/register/:eventId',
    {
      schema: {
        tags: ['registrations'],
        summary: 'Withdraw your registration',
        security,
        params: EventIdParams,
        response: { 200: Ok, ...errors },
      },
    },
    async (req) => {
      await withdrawRegistration(store, req.params.eventId, requireSignedIn(req).id);
      return { ok: true as const };
    },
  );

  app.get(
    '/registrations',
    {
      schema: {
        tags: ['registrations'],
        summary: 'Your registrations, the most recently published event first',
        description:
          'A page of at most `limit` registrations (50 by default); pass `nextCursor` back as `cursor` for the next page, until it is null. With `eventId`, only your registration for that event (none or one).',
        security,
        querystring: RegistrationListQuery,
        response: { 200: RegistrationList, ...errors },
      },
    },
    async (req) => {
      const userId = requireSignedIn(req).id;
      const { eventId, cursor, limit } = req.query;
      if (eventId !== undefined) {
        const registration = await store.registrationOf(eventId, userId);
        return { items: registration ? [registration] : [], nextCursor: null };
      }
      const page = await store.registrationsOfUser(userId, { cursor, limit });
      return { items: page.items, nextCursor: page.next };
    },
  );

  app.get(
    '/events/:id/registrations',
    {
      schema: {
        tags: ['registrations'],
        summary: 'Who registered for an event, earliest first (its organizer or an admin)',
        description: 'A page of at most `limit` registrations (50 by default); pass `nextCursor` back as `cursor` for the next page, until it is null.',
        security,
        params: IdParams,
        querystring: EventRegistrationListQuery,
        response: { 200: RegistrationList, ...errors },
      },
    },
    async (req) => {
      const event = await eventToManage(store, req.params.id, requireSignedIn(req));
      const page = await store.registrationsOfEvent(event.id, req.query);
      return { items: page.items, nextCursor: page.next };
    },
  );
}
