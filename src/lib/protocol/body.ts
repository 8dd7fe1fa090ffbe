import { z } from './zod';
import { MessageId } from './common';
import { LIMITS } from './limits';

/**
 * The plaintext inside an envelope's ciphertext. Only the two ends ever see it;
 * the hub cannot parse it. Receivers validate it after decryption like any input.
 */
export const MessageBody = z.discriminatedUnion('type', [
	z.strictObject({
		type: z.literal('text'),
		text: z.string().min(1).max(LIMITS.textMaxChars),
	}),
	/** Kind `control`, to the peer: the conversation's disappearing timer from now on (null: off). */
	z.strictObject({
		type: z.literal('timer'),
		expiresAfterMs: z.number().int().min(1).max(LIMITS.disappearingMaxMs).nullable(),
	}),
	/** Kind `control`, to oneself: every device of the account forgets this message (delete for me). */
	z.strictObject({
		type: z.literal('forget'),
		id: MessageId,
	}),
]);
export type MessageBody = z.infer<typeof MessageBody>;
