// Le catalogue français : exactement les clés de en.ts (une clé manquante ou en trop ne compile pas).
import type { Translation } from './catalog';
import type { en } from './en';

export const fr: Translation<typeof en> = {
	'app.opening': 'Ouverture d’Hourglass…',
	'bytes.B': { one: '{count} o', other: '{count} o' },
	'common.working': 'Un instant…',
	'countdown.days': '{days} j {clock}',
	'countdown.daysHours': '{days} j {hours} h',
	'countdown.hoursMinutes': '{hours} h {minutes} min',
	'error.ALREADY_RELEASED': 'Trop tard : ce message a déjà été ouvert.',
	'error.BAD_SIGNATURE': 'Le hub a refusé la signature du message.',
	'error.DELETE_WINDOW_PASSED':
		'Trop tard : un message ne peut être supprimé pour tous que peu de temps après son envoi.',
	'error.INTERNAL': 'Le hub a rencontré un problème. Réessayez plus tard.',
	'error.INVALID_CREDENTIALS': 'Nom d’utilisateur ou mot de passe incorrect.',
	'error.LOCKED_OUT':
		'Trop de connexions échouées : ce compte est bloqué pour les appareils que le hub ne connaît pas. Un appareil qui s’y est déjà connecté le peut encore.',
	'error.LOCKED_OUT.wait':
		'Trop de connexions échouées : ce compte est bloqué pour les appareils que le hub ne connaît pas. Réessayez dans {wait}, ou connectez-vous sur un appareil qui s’y est déjà connecté.',
	'error.NOT_CANCELLABLE': 'Ce message ne peut plus être annulé.',
	'error.NOT_FOUND': 'Aucun utilisateur ne porte ce nom.',
	'error.PAYLOAD_TOO_LARGE': 'Ce message est trop long.',
	'error.QUOTA_STORAGE':
		'Vos messages occupent tout l’espace que ce hub vous accorde. Les anciens messages sont supprimés quelques jours après leur remise ; renvoyez celui-ci ensuite.',
	'error.QUOTA_UNDELIVERED':
		'Trop de vos messages attendent encore cette personne. Renvoyez celui-ci quand elle les aura reçus.',
	'error.RATE_LIMITED': 'Trop de tentatives. Patientez une minute, puis réessayez.',
	'error.RATE_LIMITED.wait': 'Trop de tentatives. Réessayez dans {wait}.',
	'error.REQUEST_LIMIT':
		'Cette personne n’a pas encore accepté votre demande de message. Attendez qu’elle le fasse avant d’en envoyer d’autres.',
	'error.UNAUTHENTICATED': 'Votre session a pris fin. Reconnectez-vous.',
	'error.UNAVAILABLE': 'Le hub est injoignable. Vérifiez votre connexion et réessayez.',
	'error.UNLOCK_IN_PAST': 'L’heure d’ouverture doit être dans le futur.',
	'error.UNLOCK_TOO_FAR': 'L’heure d’ouverture est trop lointaine (10 ans au plus).',
	'error.USERNAME_TAKEN': 'Ce nom d’utilisateur est déjà pris. Choisissez-en un autre.',
	'error.keyChanged': 'Le numéro de sécurité avec {name} a changé. Vérifiez-le avant d’envoyer.',
	'login.account': 'Compte',
	'login.anotherAccount': 'Utiliser un autre compte',
	'login.code': 'Code',
	'login.codeHint':
		'Le code à 6 chiffres de votre application d’authentification, ou l’un de vos codes de secours (chacun ne sert qu’une fois).',
	'login.createAccount': 'Créer un compte',
	'login.hide': 'Masquer',
	'login.hubEnded': 'Le hub a mis fin à votre session.',
	'login.keepReading': 'Continuer à lire hors ligne',
	'login.lockedHint':
		'Cet appareil contient les conversations de {name}, scellées par le mot de passe. Elles s’ouvrent sans réseau.',
	'login.password': 'Mot de passe',
	'login.passwordHint':
		'Au moins {min} caractères. Quelques mots sans rapport entre eux en font un solide. Il ne quitte jamais cet appareil : si vous l’oubliez, personne ne pourra récupérer vos messages.',
	'login.passwordSr': ' le mot de passe',
	'login.reauthHint':
		'Vos conversations restent lisibles ici ; saisissez votre mot de passe pour vous reconnecter.',
	'login.removeConfirm':
		'Effacer l’historique et les clés de {name} de cet appareil ? Le compte reste sur le hub.',
	'login.removeFromDevice': 'Effacer de cet appareil',
	'login.show': 'Afficher',
	'login.signIn': 'Se connecter',
	'login.signInAgain': 'Se reconnecter',
	'login.stillSignedIn':
		'Toujours connecté : les nouveaux messages continuent d’arriver, scellés, et s’ouvrent au déverrouillage.',
	'login.tagline':
		'Une messagerie chiffrée de bout en bout, avec des messages qui s’ouvrent quand vous le décidez.',
	'login.title.create': 'Créer votre compte',
	'login.title.twoFactor': 'Authentification à deux facteurs',
	'login.title.unlock': 'Déverrouiller Hourglass',
	'login.trust': 'Faire confiance à cet appareil (rester connecté plus longtemps)',
	'login.unlock': 'Déverrouiller',
	'login.username': 'Nom d’utilisateur',
	'login.usernameHint':
		'De 3 à 32 lettres, chiffres, « _ », « . » ou « - ». C’est par lui qu’on vous trouve.',
	'login.verify': 'Vérifier',
	'login.waiting': {
		one: '{count} nouveau message en attente.',
		other: '{count} nouveaux messages en attente.',
	},
	'problem.keyChanged': 'Ce message n’a pas pu être vérifié : les clés de l’expéditeur ont changé.',
	'problem.unverified': 'Ce message n’a pas pu être vérifié.',
	'push.from': 'Nouveau message de {name}',
	'push.generic': 'Du nouveau est arrivé dans Hourglass',
	'strength.0': 'Très faible',
	'strength.1': 'Faible',
	'strength.2': 'Moyen',
	'strength.3': 'Solide',
	'strength.4': 'Très solide',
	'strength.checking': 'Vérification…',
	'strength.guessable': 'Ce mot de passe est trop facile à deviner. Ajoutez quelques mots peu courants.',
	'strength.label': 'Robustesse',
	'strength.max': 'Utilisez au plus {n} caractères.',
	'strength.min': 'Utilisez au moins {n} caractères.',
	'timer.off': 'désactivé',
	'timer.theyOff': '{name} a désactivé les messages éphémères',
	'timer.theySet': '{name} a réglé les messages éphémères sur {length}',
	'timer.youOff': 'Vous avez désactivé les messages éphémères',
	'timer.youSet': 'Vous avez réglé les messages éphémères sur {length}',
};
