import { describe, expect, it } from 'vitest';
import type { EnvelopeState, StoredEnvelope } from '../../src/lib/protocol';
import { audienceOf } from './messages';

const stored = (state: EnvelopeState) => ({ state }) as StoredEnvelope;

describe('audienceOf', () => {
	it('tells the recipient only of a deliverable envelope, the sender’s other devices always', () => {
		expect(audienceOf(stored('live'))).toEqual({ recipient: true, sender: true });
		expect(audienceOf(stored('released'))).toEqual({ recipient: true, sender: true });
		expect(audienceOf(stored('locked'))).toEqual({ recipient: false, sender: true });
		expect(audienceOf(stored('cancelled'))).toEqual({ recipient: false, sender: true });
	});
});
