/**
 * Notices: things the person should know that are not the answer to a call, such as a
 * database that could not be opened and was replaced (the old file kept aside). Collected by
 * main from the start; `app.notices` lists them and `app.notice` announces a new one.
 * Pure: zod only.
 */
import { z } from 'zod';

export const NoticeSchema = z.object({
  /** Unique within one run of the app. */
  id: z.string(),
  kind: z.enum(['database_recovered', 'model_warning']),
  /** One line: what happened. */
  title: z.string(),
  /** Why, and what the person can do. */
  message: z.string(),
  /** The file concerned, and where its old contents were kept. */
  file: z.string().nullable(),
  movedTo: z.string().nullable(),
  /** ISO time. */
  at: z.string(),
});
export type Notice = z.infer<typeof NoticeSchema>;

export const NoticeListSchema = z.object({ notices: z.array(NoticeSchema) });
export type NoticeList = z.infer<typeof NoticeListSchema>;
