import { describe, expect, it } from 'vitest';
import { conversationPath, isOpenConversation, OPEN_CONVERSATION } from './conversation-path';
import { notificationOfPush, pushData } from './push-message';

describe('notificationOfPush', () => {
	it('says who wrote, and nothing more, and opens their conversation', () => {
		expect(notificationOfPush({ t: 'msg', from: 'alice' })).toEqual({
			title: 'New message from alice',
			tag: 'chat:alice',
			path: 'chat/alice',
		});
	});

	it('shows only a generic line for anything that is not a push message of the protocol', () => {
		const generic = { title: 'Something new arrived in Hourglass', tag: 'hourglass', path: 'chat' };
		for (const data of [
			null,
			'alice',
			{ t: 'msg' },
			{ t: 'msg', from: 'Alice <script>' },
			{ t: 'msg', from: 'alice', text: 'the message itself' },
			{ t: 'other', from: 'alice' },
		]) {
			expect(notificationOfPush(data)).toEqual(generic);
		}
	});
});

describe('pushData', () => {
	it('reads JSON and turns garbage into null', () => {
		expect(pushData(() => '{"t":"msg","from":"bob"}')).toEqual({ t: 'msg', from: 'bob' });
		expect(pushData(() => 'not json')).toBeNull();
		expect(
			pushData(() => {
				throw new Error('no data');
			}),
		).toBeNull();
	});
});

describe('conversationPath and isOpenConversation', () => {
	it('names a conversation under the scope and recognises only its own message', () => {
		expect(conversationPath('a.b-c')).toBe('chat/a.b-c');
		expect(conversationPath(null)).toBe('chat');
		expect(isOpenConversation({ type: OPEN_CONVERSATION, path: 'chat/bob' })).toBe(true);
		expect(isOpenConversation({ type: 'other', path: 'chat/bob' })).toBe(false);
		expect(isOpenConversation(null)).toBe(false);
	});
});
