// The command line's English texts, the reference: fr.ts has exactly these keys (a compile error
// otherwise). A text's {placeholders} come from t(key, params); a plural (an object of forms) takes
// its form from params.count by Intl.PluralRules.
import type { Catalog } from '../../src/lib/i18n/catalog';

export const cliEn = {
	'2fa.off': 'Two-factor authentication is off for {username}.',
	'2fa.on': 'Two-factor authentication is on for {username}. Signing in now asks for a code.',
	'2fa.recovery': 'Recovery codes (each signs in once; keep them somewhere safe, they are not shown again):',
	'2fa.scan': 'Scan this QR code with an authenticator app, or enter the secret by hand:',
	'2fa.secret': 'Secret:',
	'account.deleted': "Deleted the account {username} on the hub, and this device's copy of its keys.",
	'activity.none': 'No activity recorded.',
	'args.announceFile': '--announce only applies to a time-locked file (add --unlock <date>)',
	'args.announceMessage': '--announce only applies to a time-locked message (add --unlock <date>)',
	'args.codeNotForEnable': '--code does not apply to "2fa enable": its code comes from the new secret',
	'args.deleteNeedsYes':
		'"account delete" cannot be undone: add --yes to delete this account and its keys for good',
	'args.emptyMessage': 'the message is empty',
	'args.filePath': 'send-file: give the path of a file',
	'args.idOrOthers': 'give either a session id or --others, not both',
	'args.limit': '--limit takes a whole number from 1 to {max}, not "{text}"',
	'args.notCard': '"{text}" is not a contact card link (<origin>/add#u=<username>&fp=<30 digits>)',
	'args.notCode': '"{text}" is not a 6-digit code or a recovery code',
	'args.notMessageId': '"{text}" is not a message id (as "hourglass read" prints them)',
	'args.notSessionId':
		'"{text}" is not a session id: give at least {min} of the characters "hourglass sessions" prints',
	'args.notUsername': '"{text}" is not a username (3 to 32 letters, digits, "_", "." or "-")',
	'args.optionNotHere': '--{option} does not apply to "{name}"',
	'args.othersAlone': '--others goes with "sessions revoke"',
	'args.quoteText': ' (quote the text)',
	'args.saveDir': '--save-dir: give a folder',
	'args.serverNotUrl': '--server: "{text}" is not a URL (e.g. {example})',
	'args.serverOrigin': "--server: give only the hub's origin, e.g. {origin}",
	'args.serverScheme': '--server: "{text}" must start with http:// or https://',
	'args.tooLong':
		'the message is longer than {max} characters (it has {length}); nothing was sent: save it to a .txt file and send that with "hourglass send-file <peer> <file>"',
	'args.unknownCommand': 'unknown command "{name}"',
	'args.usage': 'usage: {line}',
	'contacts.added': 'Added {peer} to your contacts.',
	'contacts.addedCard': "Added {peer} to your contacts; their keys match the card's fingerprint.",
	'contacts.blockedSince': 'blocked since {since}',
	'contacts.none': 'No contacts yet. Add one with "hourglass contacts add <user>".',
	'contacts.notContact': '{peer} was not a contact.',
	'contacts.removed': 'Removed {peer} from your contacts.',
	'contacts.since': 'contact since {since}',
	'delete.cancelled': 'Cancelled {id}: it was still time-locked and will never be delivered.',
	'delete.everyone': 'Deleted {id} for everyone.',
	'delete.mine': 'Deleted {id} on your devices; {control} told them.',
	'disappear.off': 'Disappearing messages with {peer} are off ({control}).',
	'disappear.set': 'Disappearing messages with {peer}: {duration} after reading ({control}).',
	'duration.dh': '{d}d {h}h',
	'duration.hm': '{h}h {m}m',
	'duration.ms': '{m}m {s}s',
	'duration.s': '{s}s',
	'file.notAFile': '{path} is not a file',
	'file.progress': '{done} of {total}',
	help: `Usage: hourglass [--server <url>] [--user <name>] <command>

Commands:
  register <username>                     create an account and keep its identity on this device
  login <username> [--trust] [--code <code>]
                                          sign this device in (restores the identity from its backup);
                                          with two-factor authentication on, --code gives the 6-digit
                                          code or a recovery code (else it is asked for)
  2fa enable                              turn on two-factor authentication: prints the otpauth URI and
                                          a QR code for an authenticator app, then reads a first code
  2fa disable [--code <code>]             turn it off (the password and a code or recovery code)
  send <user> <text> [--unlock <date>] [--announce]
                                          send an end-to-end encrypted message; --unlock time-locks it
                                          until <date> (ISO 8601, e.g. 2030-01-31T09:00, or
                                          DD:MM:YYYY:HH:MM:SS, local time unless an offset is given);
                                          --announce lets the recipient see that something is coming
  send-file <user> <path> [--unlock <date>] [--announce]
                                          encrypt and send a file (a progress line on stderr; an
                                          interrupted upload of the same file resumes on the next try);
                                          --unlock and --announce as for send, the file included
  read [--peer <user>] [--save-dir <dir>] fetch and print new messages (each with its id), then exit;
                                          what it printed counts as read on your other devices (and,
                                          with read receipts on, for the senders); --peer prints only
                                          the conversation with <user> (the rest waits for a later read);
                                          --save-dir saves received files there (decrypted and checked)
                                          and prints their paths; an interrupted save resumes on the
                                          next read --save-dir (its ciphertext is kept there meanwhile)
  receipts on|off                         read receipts for every device of this account (off by
                                          default; reciprocal: off, you see no one's either)
  delete <message-id> [--everyone]        delete a message on every device of this account; with
                                          --everyone (your own message, within the hub's window,
                                          48 hours by default) on every device of both sides and the hub
  disappear <user> <off|5m|1h|1d|1w>      set the disappearing-messages timer with <user>: your
                                          messages to them from now on disappear that long after reading
  safety <user> [--accept] [--qr]         print the safety number to compare with <user> in person,
                                          and whether it is verified on this device; --accept trusts
                                          <user>'s new keys after they changed; --qr also prints the
                                          QR code for <user>'s app to scan
  verify <user> <digits>                  compare the 60 digits <user> reads out, in person or by a
                                          call (spaces or not, or the text of their QR code), with
                                          this device's; a match marks <user> verified here, a
                                          mismatch exits with 1
  unverify <user>                         take back the verified mark for <user> on this device
  password [--keep-sessions]              change the password (the new one from $HOURGLASS_NEW_PASSWORD
                                          or a prompt); other sessions end unless --keep-sessions
  logout [--forget]                       end the session on the hub; --forget also deletes this
                                          device's sealed identity, pins and sync cursor
  sessions                                list the devices signed in to this account (* marks this one;
                                          "push": it gets Web Push while closed)
  sessions revoke <id> | --others         sign one device out (by the start of its id), or every
                                          device but this one; their connections end at once
  activity [--limit <n>]                  print the account's activity log, newest first (sign-ins,
                                          failed attempts, lockouts, security changes; default 50)
  account delete --yes [--code <code>]    delete this account on the hub (keys, backup, sessions,
                                          messages waiting for it) and this device's copy; --yes
                                          confirms, --code is asked for when two-factor is on
  contacts                                list your contacts and the people you blocked
  contacts add <user>|<card link>         add a contact; a contact card link (<origin>/add#u=…&fp=…)
                                          has its fingerprint checked against the hub's keys first
  contacts remove <user>                  remove a contact (their new messages are requests again)
  requests                                list message requests: who wrote, how many, their first message
  accept <user>                           accept a message request (they become a contact)
  decline <user>                          decline it: the hub deletes what they left stored for you
  block <user>                            store nothing more from <user> (declines their request);
                                          they are not told
  unblock <user>                          lift a block
  card [--qr]                             print your contact card link; --qr also draws it as a QR code
  help                                    print this help

Options:
  --server <url>   the hub (default: $HOURGLASS_SERVER or {defaultServer})
  --user <name>    which local account to use (default: the last one that signed in on this server)

The password comes from $HOURGLASS_PASSWORD, else a prompt that does not echo (or a line on stdin);
the new one of "password" from $HOURGLASS_NEW_PASSWORD, else a prompt.
Local data lives in $HOURGLASS_HOME (default ~/.hourglass), sealed under the account's history key,
which only the password opens.`,
	'lock.cancelled': 'time-lock cancelled, sent {sent}',
	'lock.locked': 'locked until {until}, sent {sent}',
	'lock.released': 'time-locked: sent {sent}, unlocked {unlocked}',
	'login.done': 'Signed in as {username} on {server}.',
	'login.doneTrusted': 'Signed in as {username} on {server} (trusted device).',
	'logout.done': 'Signed out {username}. Its sealed keys stay on this device.',
	'logout.forgot': "Signed out {username} and deleted this device's copy of its keys.",
	'main.helpHint': 'Run "hourglass help" for the commands.',
	'message.disappears': ' (disappears {duration} after reading)',
	'message.file': '[file] {name} ({size}, {type})',
	'message.unknownType': 'unknown type',
	'password.differ': 'the two passwords differ',
	'password.done': 'Changed the password of {username}.',
	'password.kept': 'Your other sessions stay signed in.',
	'password.length': 'a password has {min} to {max} characters',
	'password.noCode': 'no code: give --code or type the code from your authenticator app',
	'password.noNew': 'no new password: set HOURGLASS_NEW_PASSWORD or run the command in a terminal',
	'password.none': 'no password: set HOURGLASS_PASSWORD or run the command in a terminal',
	'password.revoked': {
		one: '{count} other session signed out; it signs in again with the new password.',
		other: '{count} other sessions signed out; they sign in again with the new password.',
	},
	'problem.badBody': 'not shown: its content is not a valid message',
	'problem.badSignature': 'not shown: its signature does not verify (forged or damaged)',
	'problem.keyChanged': 'not shown: the sender’s keys changed since they were pinned on this device',
	'problem.undecryptable': 'not shown: it cannot be decrypted with this account’s keys',
	'profile.damaged': 'The sealed local data is damaged.',
	'profile.damagedFile': '{path} is damaged',
	'profile.notJson': '{path} is not valid JSON',
	'profile.wrongPassword': 'Wrong password for the account kept on this device.',
	'prompt.appCode': 'Code shown by the app: ',
	'prompt.choosePassword': 'Choose a password for {username}: ',
	'prompt.code': 'Code from your authenticator app (or a recovery code): ',
	'prompt.newPassword': 'New password for {username}: ',
	'prompt.password': 'Password for {username}: ',
	'prompt.repeat': 'Repeat the password: ',
	'prompt.repeatNew': 'Repeat the new password: ',
	'read.deletedBy': '{id} deleted by {from}',
	'read.none': 'No new messages.',
	'read.pausedHint': {
		one: '{count} download is paused: "hourglass read --save-dir <dir>" resumes it',
		other: '{count} downloads are paused: "hourglass read --save-dir <dir>" resumes them',
	},
	'read.saveHint': '(run "hourglass read --save-dir <dir>" to save received files)',
	'receipt.read': '{peer} read {id}',
	'receipts.off': 'Read receipts are off for every device of {username}.',
	'receipts.on': 'Read receipts are on for every device of {username}.',
	'register.done': 'Registered {username} on {server}.',
	'register.keys': 'Your keys stay on this device, sealed with your password: {path}',
	'relate.accept': "Accepted {peer}'s message request: they are a contact now.",
	'relate.block': 'Blocked {peer}: the hub stores nothing more from them for you. They are not told.',
	'relate.decline': "Declined {peer}'s message request.",
	'relate.deleted': {
		one: 'The hub deleted {count} of their messages.',
		other: 'The hub deleted {count} of their messages.',
	},
	'relate.unblock': 'Unblocked {peer}.',
	'report.cardAgain': 'Ask {peer} for their card again.',
	'report.keyChanged':
		'Nothing was sent. Check with {peer} in person, then run "hourglass safety {peer} --accept" and compare the new safety number.',
	'report.lockedOut':
		'Too many failed sign-ins: the hub has locked this account (or this address) for devices it does not know. {wait} A device that signed in to this account before is not locked out.',
	'report.rateLimited': 'Too many requests to the hub. {wait}',
	'report.tryAgain': 'Try again in {wait} (at {until}).',
	'requests.answer':
		'Answer with "hourglass accept <user>", "hourglass decline <user>" or "hourglass block <user>".',
	'requests.count': { one: '{count} message', other: '{count} messages' },
	'requests.none': 'No message requests.',
	'safety.accepted': 'Accepted the new keys of {peer}. Compare the new safety number with them in person.',
	'safety.code': 'Code:',
	'safety.notVerified':
		'Verified: no. Compare the number with {peer}, then run "hourglass verify {peer} <digits>".',
	'safety.number': 'Safety number for {me} and {peer} (the same on both sides):',
	'safety.qrFor': 'For {peer} to scan (Details in the conversation, then "Choose an image" or the camera):',
	'safety.verified': 'Verified: yes, on this device since {since}.',
	'safetyCode.digits': 'the safety number has something else than digits',
	'safetyCode.format': 'the safety number is neither 60 digits nor an hourglass-safety: code',
	'safetyCode.length': 'the safety number does not have 60 digits',
	'safetyCode.version': 'the safety number is a safety code of a version this hourglass does not read',
	'save.badName': 'not saved: "{name}" is not a plain file name',
	'save.done': 'saved {path}',
	'save.dropped': 'dropped the paused download of {name} from {from} ({id}): its message was deleted',
	'save.expired': 'dropped the paused download of {name} from {from} ({id}): not tried for {days} days',
	'save.failed': 'not saved: {reason}',
	'save.paused': 'paused {name} at {percent}% ("hourglass read --save-dir {dir}" resumes it): {reason}',
	'save.resuming': 'resuming {name} from {from} ({id})',
	'sealed.unlocks': 'unlocks {at} (in {wait})',
	'send.again': ' (already stored)',
	'send.locked': 'Locked {id} for {to} until {until}; {told}.',
	'send.notTold': '{to} is not told',
	'send.sent': 'Sent {id} to {to}.',
	'send.told': '{to} sees a sealed message',
	'sendFile.locked': 'Locked {id} for {to} until {until}: {what}; {told}.',
	'sendFile.sent': 'Sent {id} to {to}: {what}.',
	'sendFile.unreadable': 'send-file: cannot read {path} ({reason})',
	'sendFile.what': '{name} ({size}, file {fileId})',
	'session.connectTimeout': 'No connection to the hub within {ms} ms.',
	'session.noAccount':
		'No account for {server} on this device: run "hourglass register <username>" or "hourglass login <username>" first.',
	'session.noAccountNamed':
		'No account "{username}" for {server} on this device: run "hourglass register <username>" or "hourglass login <username>" first.',
	'session.refused': 'The hub refused the connection: {reason}',
	'sessions.ago': '{duration} ago',
	'sessions.ambiguous': '"{prefix}" starts several session ids: give more of it',
	'sessions.hint':
		'Sign one out with "hourglass sessions revoke <ID>", every other with "hourglass sessions revoke --others".',
	'sessions.noMatch': 'No session of {username} has an id starting "{prefix}".',
	'sessions.now': 'now',
	'sessions.revokedOne': 'Signed out {device} ({id}).',
	'sessions.revokedOthers': {
		one: 'Signed out {count} other device.',
		other: 'Signed out {count} other devices.',
	},
	'sessions.revokedThis': 'Signed this device out; the next command signs in again.',
	'sessions.trusted': 'trusted',
	'sessions.unknownPlace': 'unknown',
	'table.device': 'DEVICE',
	'table.from': 'FROM',
	'table.lastSeen': 'LAST SEEN',
	'table.signedIn': 'SIGNED IN',
	'table.what': 'WHAT',
	'table.when': 'WHEN',
	'timer.off': '{from} turned disappearing messages off (with {to})',
	'timer.set': '{from} set disappearing messages to {duration} (with {to})',
	'unlock.day': '"{input}": month {month} of {year} has no day {day}',
	'unlock.dst': '"{input}" does not exist in the local time zone (a daylight-saving change)',
	'unlock.month': '"{input}": no month {month}',
	'unlock.notADate':
		'"{input}" is not a date: use ISO 8601 (2030-01-31T09:00, 2030-01-31T09:00:00Z) or DD:MM:YYYY:HH:MM:SS',
	'unlock.time': '"{input}": no such time of day',
	'unlock.year': '"{input}": the year must be 1970 or later',
	'unlock.zone': '"{zone}" is not a time zone offset',
	'unlock.zoneNeedsTime': '"{input}": a time zone needs a time of day, e.g. 2030-01-31T09:00Z',
	'unverify.done': '{peer} is no longer verified on this device.',
	'unverify.notVerified': '{peer} was not verified on this device.',
	'verify.match': 'Match: {peer} is verified on this device. Nobody is between you.',
	'verify.mismatch':
		'The safety number does not match the one for the keys this device holds for {peer}. Someone may be in the middle (a hub giving out its own keys), or one of you has new keys the other has not accepted. Nothing was marked verified; find out why, in person or by a call.',
	'verify.otherPeople': 'This code was not made by {peer} for {me}: it belongs to another pair of people.',
	'verify.ownCode': 'that is your own safety code: give the one {peer} shows',
	'verify.unreadable': 'that is neither 60 digits nor an hourglass-safety: code',
} satisfies Catalog;

export type CliKey = keyof typeof cliEn;
