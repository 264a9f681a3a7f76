import { type ObjectCreated, objectCreatedNotification } from '../../shared/s3/events.ts';

/** An S3 ObjectCreated notification as the SQS message body, to feed the ingest handler directly. */
export function notificationBody(objects: ObjectCreated[], replay?: { force: boolean; id: string }): string {
  return JSON.stringify(objectCreatedNotification(objects, replay ? { replay } : {}));
}
