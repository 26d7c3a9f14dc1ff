// HTTP routes of workshops: the join link for learners; the host's pages, event creation and CSV
// export; /metrics. Host routes go through requireHost (token once, then an http-only cookie).
import express, { type Request } from 'express';
import { AppError } from '../errors.ts';
import { requireHost } from '../http/host-auth.ts';
import { cleanDisplayName, gridCsv, parseEventInput } from './event-rules.ts';
import { hostEventPage, hostHomePage, joinPage } from './pages.ts';
import type { Workshop } from './workshop.ts';

export interface WorkshopRoutesDeps {
  workshop: Workshop;
  hostToken: string | undefined;
  secret: string;
  metrics: { contentType: string; text(): Promise<string> };
  now(): number;
}

export function joinUrlOf(req: Request, code: string): string {
  return `${req.protocol}://${req.get('host')}/e/${encodeURIComponent(code)}`;
}

export function createWorkshopRoutes(deps: WorkshopRoutesDeps): express.Router {
  const r = express.Router();
  const { workshop } = deps;
  const host = requireHost({ token: deps.hostToken, secret: deps.secret });
  const form = express.urlencoded({ extended: false, limit: '16kb' });
  const eventByCode = async (code: string) => {
    const ev = await workshop.events.eventByCode(code);
    if (!ev) throw new AppError('not_found', 'There is no event with this code. Check the link on the slide.');
    return ev;
  };
  const eventById = async (id: string) => {
    const ev = await workshop.events.event(id);
    if (!ev) throw new AppError('not_found', 'There is no such event.');
    return ev;
  };

  // ---- learners ----
  r.get('/e/:code', async (req, res) => {
    const ev = await eventByCode(String(req.params.code));
    const me = await workshop.events.participant(ev.id, req.learnerId);
    if (me && req.query.rename === undefined) return res.redirect(303, `/labs/${encodeURIComponent(ev.labs[0]!)}`);
    res.type('html').send(joinPage(ev, { name: me?.name, labTitle: workshop.labTitle(ev.labs[0]!) }));
  });

  r.post('/e/:code', form, async (req, res) => {
    const ev = await eventByCode(String(req.params.code));
    try {
      const name = cleanDisplayName(req.body?.name);
      await workshop.events.join(ev.id, req.learnerId, name, deps.now());
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      res.status(err.status).type('html').send(joinPage(ev, { name: String(req.body?.name ?? ''), error: err.message }));
      return;
    }
    res.redirect(303, `/labs/${encodeURIComponent(ev.labs[0]!)}`);
  });

  // ---- the host ----
  r.get('/metrics', host, async (_req, res) => {
    res.setHeader('Content-Type', deps.metrics.contentType);
    res.send(await deps.metrics.text());
  });

  r.get('/host', host, async (req, res) => {
    res.type('html').send(hostHomePage({ ...(await workshop.hostSummary()), events: (await workshop.eventList()).map((e) => ({ ...e, joinUrl: joinUrlOf(req, e.code) })) }));
  });

  r.post('/host/events', host, form, async (req, res) => {
    try {
      const input = parseEventInput(req.body ?? {}, (id) => workshop.labTitle(id) !== undefined, deps.now());
      const ev = await workshop.createEvent(input);
      res.redirect(303, `/host/events/${encodeURIComponent(ev.id)}`);
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      res.status(err.status).type('html').send(hostHomePage({
        ...(await workshop.hostSummary()), error: err.message, events: (await workshop.eventList()).map((e) => ({ ...e, joinUrl: joinUrlOf(req, e.code) })),
      }));
    }
  });

  r.get('/host/events/:id', host, async (req, res) => {
    const ev = await eventById(String(req.params.id));
    const joinUrl = joinUrlOf(req, ev.code);
    res.type('html').send(hostEventPage(ev, {
      eventId: ev.id, code: ev.code, name: ev.name, joinUrl,
      labs: ev.labs.map((id) => ({ id, title: workshop.labTitle(id) ?? id })),
    }));
  });

  r.get('/host/events/:id/progress.csv', host, async (req, res) => {
    const ev = await eventById(String(req.params.id));
    const file = `${ev.name.replace(/[^A-Za-z0-9_-]+/g, '-').replace(/^-|-$/g, '') || 'event'}-progress.csv`;
    res.setHeader('Content-Disposition', `attachment; filename="${file}"`);
    res.type('text/csv').send(gridCsv(ev, await workshop.grid(ev.id)));
  });

  return r;
}
