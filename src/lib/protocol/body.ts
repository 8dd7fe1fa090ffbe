import { z } from './zod';
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
]);
export type MessageBody = z.infer<typeof MessageBody>;
