import { QueueEntry, QueuePass, QueuePassBody, WaitingRoom, WaitingRoomParams, WaitingRoomSettingsBody } from '@dems/contracts';
import { requireSignedIn, type App } from '@dems/kit';
import type { WaitingRooms } from './rooms.js';

const TAGS = ['waiting rooms'];
const bearer = [{ bearer: [] }];
const signedIn = async (req: Parameters<typeof requireSignedIn>[0]) => {
  requireSignedIn(req);
};

/** /waiting-rooms/:eventId — the virtual waiting room of a queued sale (README "Waiting room"). */
export function waitingRoomRoutes(app: App, rooms: WaitingRooms): void {
  app.put(
    '/waiting-rooms/:eventId',
    {
      onRequest: signedIn,
      schema: {
        tags: TAGS,
        summary: 'Queue the sale of an event (create or change its waiting room)',
        description:
          "The event's organizer or an admin. From `opensAt` on, buying needs a queue pass; places are admitted at `admitPerMinute`. A change applies to places handed out after it.",
        security: bearer,
        params: WaitingRoomParams,
        body: WaitingRoomSettingsBody,
        response: { 200: WaitingRoom },
      },
    },
    (req) => rooms.set(requireSignedIn(req), req.params.eventId, req.body),
  );

  app.delete(
    '/waiting-rooms/:eventId',
    {
      onRequest: signedIn,
      schema: { tags: TAGS, summary: 'Stop queueing the sale (passes are no longer needed)', security: bearer, params: WaitingRoomParams },
    },
    async (req, reply) => {
      await rooms.remove(requireSignedIn(req), req.params.eventId);
      return reply.code(204).send();
    },
  );

  app.get(
    '/waiting-rooms/:eventId',
    {
      schema: {
        tags: TAGS,
        summary: 'The waiting room of an event: settings, places handed out, admitted so far, sold out',
        params: WaitingRoomParams,
        response: { 200: WaitingRoom },
      },
    },
    (req) => rooms.get(req.params.eventId),
  );

  app.post(
    '/waiting-rooms/:eventId/entries',
    {
      onRequest: signedIn,
      schema: {
        tags: TAGS,
        summary: 'Join the waiting room (201), or get my place again (200)',
        description: 'One place per user: joining again returns the same place, until its pass has expired. Joining before the opening is allowed.',
        security: bearer,
        params: WaitingRoomParams,
        response: { 200: QueueEntry, 201: QueueEntry },
      },
    },
    async (req, reply) => {
      const { entry, created } = await rooms.join(requireSignedIn(req), req.params.eventId);
      return reply.code(created ? 201 : 200).send(entry);
    },
  );

  app.post(
    '/waiting-rooms/:eventId/passes',
    {
      onRequest: signedIn,
      schema: {
        tags: TAGS,
        summary: 'Exchange an admitted place for a queue pass',
        description:
          'Send the pass as the queue-pass header of POST /orders until it expires. The same token gets the same pass while it lasts, never a second window; before admitAt, 409 NOT_ADMITTED_YET with Retry-After.',
        security: bearer,
        params: WaitingRoomParams,
        body: QueuePassBody,
        response: { 201: QueuePass },
      },
    },
    async (req, reply) => reply.code(201).send(await rooms.pass(requireSignedIn(req), req.params.eventId, req.body.token)),
  );
}
