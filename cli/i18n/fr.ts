// Le texte français de la ligne de commande : exactement les clés de en.ts (sinon, ça ne compile pas).
import type { Translation } from '../../src/lib/i18n/catalog';
import type { cliEn } from './en';

export const cliFr: Translation<typeof cliEn> = {
	'2fa.off': 'La double authentification est désactivée pour {username}.',
	'2fa.on': 'La double authentification est active pour {username}. La connexion demande désormais un code.',
	'2fa.recovery':
		'Codes de secours (chacun sert une fois ; gardez-les en lieu sûr, ils ne seront plus affichés) :',
	'2fa.scan':
		'Scannez ce QR code avec une application d’authentification, ou saisissez le secret à la main :',
	'2fa.secret': 'Secret :',
	'account.deleted':
		'Compte {username} supprimé sur le hub, ainsi que la copie de ses clés sur cet appareil.',
	'activity.none': 'Aucune activité enregistrée.',
	'args.announceFile': '--announce ne vaut que pour un fichier scellé (ajoutez --unlock <date>)',
	'args.announceMessage': '--announce ne vaut que pour un message scellé (ajoutez --unlock <date>)',
	'args.codeNotForEnable': '--code ne s’applique pas à « 2fa enable » : son code vient du nouveau secret',
	'args.deleteNeedsYes':
		'« account delete » est irréversible : ajoutez --yes pour supprimer définitivement ce compte et ses clés',
	'args.emptyMessage': 'le message est vide',
	'args.filePath': 'send-file : indiquez le chemin d’un fichier',
	'args.idOrOthers': 'indiquez soit un id de session, soit --others, pas les deux',
	'args.limit': '--limit attend un nombre entier de 1 à {max}, pas « {text} »',
	'args.notCard': '« {text} » n’est pas un lien de carte de contact (<origine>/add#u=<nom>&fp=<30 chiffres>)',
	'args.notCode': '« {text} » n’est ni un code à 6 chiffres ni un code de secours',
	'args.notMessageId': '« {text} » n’est pas un id de message (tel que « hourglass read » les affiche)',
	'args.notSessionId':
		'« {text} » n’est pas un id de session : donnez au moins {min} des caractères qu’affiche « hourglass sessions »',
	'args.notUsername':
		'« {text} » n’est pas un nom d’utilisateur (3 à 32 lettres, chiffres, « _ », « . » ou « - »)',
	'args.optionNotHere': '--{option} ne s’applique pas à « {name} »',
	'args.othersAlone': '--others va avec « sessions revoke »',
	'args.quoteText': ' (mettez le texte entre guillemets)',
	'args.saveDir': '--save-dir : indiquez un dossier',
	'args.serverNotUrl': '--server : « {text} » n’est pas une URL (p. ex. {example})',
	'args.serverOrigin': '--server : indiquez seulement l’origine du hub, p. ex. {origin}',
	'args.serverScheme': '--server : « {text} » doit commencer par http:// ou https://',
	'args.tooLong':
		'le message dépasse {max} caractères (il en a {length}) ; rien n’a été envoyé : enregistrez-le dans un fichier .txt et envoyez celui-ci avec « hourglass send-file <nom> <fichier> »',
	'args.unknownCommand': 'commande inconnue « {name} »',
	'args.usage': 'utilisation : {line}',
	'contacts.added': '{peer} ajouté à vos contacts.',
	'contacts.addedCard': '{peer} ajouté à vos contacts ; ses clés correspondent à l’empreinte de la carte.',
	'contacts.blockedSince': 'bloqué depuis le {since}',
	'contacts.none': 'Aucun contact pour l’instant. Ajoutez-en un avec « hourglass contacts add <nom> ».',
	'contacts.notContact': '{peer} n’était pas un contact.',
	'contacts.removed': '{peer} retiré de vos contacts.',
	'contacts.since': 'contact depuis le {since}',
	'delete.cancelled': '{id} annulé : il était encore scellé et ne sera jamais remis.',
	'delete.everyone': '{id} supprimé pour tout le monde.',
	'delete.mine': '{id} supprimé sur vos appareils ; {control} les a prévenus.',
	'disappear.off': 'Messages éphémères avec {peer} désactivés ({control}).',
	'disappear.set': 'Messages éphémères avec {peer} : {duration} après lecture ({control}).',
	'duration.dh': '{d} j {h} h',
	'duration.hm': '{h} h {m} min',
	'duration.ms': '{m} min {s} s',
	'duration.s': '{s} s',
	'file.notAFile': '{path} n’est pas un fichier',
	'file.progress': '{done} sur {total}',
	help: `Utilisation : hourglass [--server <url>] [--user <nom>] <commande>

Commandes :
  register <nom>                          crée un compte et garde son identité sur cet appareil
  login <nom> [--trust] [--code <code>]
                                          connecte cet appareil (restaure l’identité depuis sa
                                          sauvegarde) ; si la double authentification est active,
                                          --code donne le code à 6 chiffres ou un code de secours
                                          (sinon il est demandé)
  2fa enable                              active la double authentification : affiche l’URI otpauth et
                                          un QR code pour une application d’authentification, puis lit
                                          un premier code
  2fa disable [--code <code>]             la désactive (le mot de passe et un code ou un code de secours)
  send <nom> <texte> [--unlock <date>] [--announce]
                                          envoie un message chiffré de bout en bout ; --unlock le scelle
                                          jusqu’à <date> (ISO 8601, p. ex. 2030-01-31T09:00, ou
                                          JJ:MM:AAAA:HH:MM:SS, heure locale sauf décalage indiqué) ;
                                          --announce laisse le destinataire voir que quelque chose arrive
  send-file <nom> <chemin> [--unlock <date>] [--announce]
                                          chiffre et envoie un fichier (une ligne de progression sur
                                          stderr ; un envoi interrompu du même fichier reprend à l’essai
                                          suivant) ; --unlock et --announce comme pour send, fichier compris
  read [--peer <nom>] [--save-dir <dossier>]
                                          récupère et affiche les nouveaux messages (chacun avec son id),
                                          puis s’arrête ; ce qui est affiché compte comme lu sur vos autres
                                          appareils (et, avec les accusés de lecture, pour les expéditeurs) ;
                                          --peer n’affiche que la conversation avec <nom> (le reste attend
                                          une lecture suivante) ; --save-dir y enregistre les fichiers reçus
                                          (déchiffrés et vérifiés) et affiche leurs chemins ; un
                                          enregistrement interrompu reprend au read --save-dir suivant
                                          (son texte chiffré est gardé là entre-temps)
  receipts on|off                         accusés de lecture pour tous les appareils de ce compte
                                          (désactivés par défaut ; réciproques : sans eux, vous ne voyez
                                          ceux de personne)
  delete <id-message> [--everyone]        supprime un message sur tous les appareils de ce compte ; avec
                                          --everyone (votre propre message, dans le délai du hub, 48 heures
                                          par défaut) sur tous les appareils des deux côtés et sur le hub
  disappear <nom> <off|5m|1h|1d|1w>       règle les messages éphémères avec <nom> : vos messages à partir
                                          de maintenant disparaissent ce délai après leur lecture
  safety <nom> [--accept] [--qr]          affiche le numéro de sécurité à comparer en personne avec <nom>,
                                          et s’il est vérifié sur cet appareil ; --accept fait confiance
                                          aux nouvelles clés de <nom> après un changement ; --qr affiche
                                          aussi le QR code à scanner par l’application de <nom>
  verify <nom> <chiffres>                 compare les 60 chiffres que <nom> lit à voix haute, en personne
                                          ou par un appel (avec ou sans espaces, ou le texte de son QR
                                          code), avec ceux de cet appareil ; s’ils concordent, <nom> est
                                          marqué vérifié ici, sinon la commande sort avec 1
  unverify <nom>                          retire la marque « vérifié » de <nom> sur cet appareil
  password [--keep-sessions]              change le mot de passe (le nouveau vient de
                                          $HOURGLASS_NEW_PASSWORD ou d’une invite) ; les autres sessions
                                          prennent fin sauf avec --keep-sessions
  logout [--forget]                       met fin à la session sur le hub ; --forget supprime aussi
                                          l’identité scellée, les clés épinglées et le curseur de cet appareil
  sessions                                liste les appareils connectés à ce compte (* marque celui-ci ;
                                          « push » : il reçoit Web Push quand il est fermé)
  sessions revoke <id> | --others         déconnecte un appareil (par le début de son id), ou tous sauf
                                          celui-ci ; leurs connexions prennent fin aussitôt
  activity [--limit <n>]                  affiche le journal d’activité du compte, le plus récent d’abord
                                          (connexions, tentatives échouées, blocages, changements de
                                          sécurité ; 50 par défaut)
  account delete --yes [--code <code>]    supprime ce compte sur le hub (clés, sauvegarde, sessions,
                                          messages en attente) et la copie de cet appareil ; --yes
                                          confirme, --code est demandé si la double authentification est active
  contacts                                liste vos contacts et les personnes que vous avez bloquées
  contacts add <nom>|<lien de carte>      ajoute un contact ; l’empreinte d’un lien de carte de contact
                                          (<origine>/add#u=…&fp=…) est d’abord vérifiée auprès des clés du hub
  contacts remove <nom>                   retire un contact (ses nouveaux messages redeviennent des demandes)
  requests                                liste les demandes de message : qui a écrit, combien, son premier message
  accept <nom>                            accepte une demande de message (la personne devient un contact)
  decline <nom>                           la refuse : le hub supprime ce qu’elle a laissé pour vous
  block <nom>                             ne plus rien stocker de <nom> (refuse sa demande) ;
                                          la personne n’est pas prévenue
  unblock <nom>                           lève un blocage
  card [--qr]                             affiche le lien de votre carte de contact ; --qr le dessine aussi
                                          en QR code
  help                                    affiche cette aide

Options :
  --server <url>   le hub (par défaut : $HOURGLASS_SERVER ou {defaultServer})
  --user <nom>     le compte local à utiliser (par défaut : le dernier connecté sur ce serveur)

Le mot de passe vient de $HOURGLASS_PASSWORD, sinon d’une invite sans écho (ou d’une ligne sur
stdin) ; le nouveau de « password » vient de $HOURGLASS_NEW_PASSWORD, sinon d’une invite.
Les données locales sont dans $HOURGLASS_HOME (par défaut ~/.hourglass), scellées sous la clé
d’historique du compte, que seul le mot de passe ouvre.`,
	'lock.cancelled': 'scellé annulé, envoyé le {sent}',
	'lock.locked': 'scellé jusqu’au {until}, envoyé le {sent}',
	'lock.released': 'scellé : envoyé le {sent}, ouvert le {unlocked}',
	'login.done': 'Connecté en tant que {username} sur {server}.',
	'login.doneTrusted': 'Connecté en tant que {username} sur {server} (appareil de confiance).',
	'logout.done': '{username} déconnecté. Ses clés scellées restent sur cet appareil.',
	'logout.forgot': '{username} déconnecté, et la copie de ses clés supprimée de cet appareil.',
	'main.helpHint': 'Lancez « hourglass help » pour voir les commandes.',
	'message.disappears': ' (disparaît {duration} après lecture)',
	'message.file': '[fichier] {name} ({size}, {type})',
	'message.unknownType': 'type inconnu',
	'password.differ': 'les deux mots de passe diffèrent',
	'password.done': 'Mot de passe de {username} changé.',
	'password.kept': 'Vos autres sessions restent connectées.',
	'password.length': 'un mot de passe a de {min} à {max} caractères',
	'password.noCode': 'pas de code : donnez --code ou tapez le code de votre application d’authentification',
	'password.noNew':
		'pas de nouveau mot de passe : définissez HOURGLASS_NEW_PASSWORD ou lancez la commande dans un terminal',
	'password.none':
		'pas de mot de passe : définissez HOURGLASS_PASSWORD ou lancez la commande dans un terminal',
	'password.revoked': {
		one: '{count} autre session déconnectée ; elle se reconnecte avec le nouveau mot de passe.',
		other: '{count} autres sessions déconnectées ; elles se reconnectent avec le nouveau mot de passe.',
	},
	'problem.badBody': 'non affiché : son contenu n’est pas un message valide',
	'problem.badSignature': 'non affiché : sa signature n’est pas valide (falsifié ou abîmé)',
	'problem.keyChanged':
		'non affiché : les clés de l’expéditeur ont changé depuis qu’elles ont été épinglées sur cet appareil',
	'problem.undecryptable': 'non affiché : les clés de ce compte ne le déchiffrent pas',
	'profile.damaged': 'Les données locales scellées sont abîmées.',
	'profile.damagedFile': '{path} est abîmé',
	'profile.notJson': '{path} n’est pas du JSON valide',
	'profile.wrongPassword': 'Mot de passe incorrect pour le compte gardé sur cet appareil.',
	'prompt.appCode': 'Code affiché par l’application : ',
	'prompt.choosePassword': 'Choisissez un mot de passe pour {username} : ',
	'prompt.code': 'Code de votre application d’authentification (ou un code de secours) : ',
	'prompt.newPassword': 'Nouveau mot de passe pour {username} : ',
	'prompt.password': 'Mot de passe de {username} : ',
	'prompt.repeat': 'Répétez le mot de passe : ',
	'prompt.repeatNew': 'Répétez le nouveau mot de passe : ',
	'read.deletedBy': '{id} supprimé par {from}',
	'read.none': 'Aucun nouveau message.',
	'read.pausedHint': {
		one: '{count} téléchargement en pause : « hourglass read --save-dir <dossier> » le reprend',
		other: '{count} téléchargements en pause : « hourglass read --save-dir <dossier> » les reprend',
	},
	'read.saveHint': '(lancez « hourglass read --save-dir <dossier> » pour enregistrer les fichiers reçus)',
	'receipt.read': '{peer} a lu {id}',
	'receipts.off': 'Accusés de lecture désactivés pour tous les appareils de {username}.',
	'receipts.on': 'Accusés de lecture activés pour tous les appareils de {username}.',
	'register.done': 'Compte {username} créé sur {server}.',
	'register.keys': 'Vos clés restent sur cet appareil, scellées par votre mot de passe : {path}',
	'relate.accept': 'Demande de message de {peer} acceptée : c’est maintenant un contact.',
	'relate.block':
		'{peer} bloqué : le hub ne stocke plus rien de sa part pour vous. La personne n’est pas prévenue.',
	'relate.decline': 'Demande de message de {peer} refusée.',
	'relate.deleted': {
		one: 'Le hub a supprimé {count} de ses messages.',
		other: 'Le hub a supprimé {count} de ses messages.',
	},
	'relate.unblock': '{peer} débloqué.',
	'report.cardAgain': 'Redemandez sa carte à {peer}.',
	'report.keyChanged':
		'Rien n’a été envoyé. Vérifiez avec {peer} en personne, puis lancez « hourglass safety {peer} --accept » et comparez le nouveau numéro de sécurité.',
	'report.lockedOut':
		'Trop de connexions échouées : le hub a bloqué ce compte (ou cette adresse) pour les appareils qu’il ne connaît pas. {wait} Un appareil qui s’est déjà connecté à ce compte n’est pas bloqué.',
	'report.rateLimited': 'Trop de requêtes au hub. {wait}',
	'report.tryAgain': 'Réessayez dans {wait} (à {until}).',
	'requests.answer':
		'Répondez avec « hourglass accept <nom> », « hourglass decline <nom> » ou « hourglass block <nom> ».',
	'requests.count': { one: '{count} message', other: '{count} messages' },
	'requests.none': 'Aucune demande de message.',
	'safety.accepted':
		'Nouvelles clés de {peer} acceptées. Comparez le nouveau numéro de sécurité avec cette personne, en personne.',
	'safety.code': 'Code :',
	'safety.notVerified':
		'Vérifié : non. Comparez le numéro avec {peer}, puis lancez « hourglass verify {peer} <chiffres> ».',
	'safety.number': 'Numéro de sécurité de {me} et {peer} (le même des deux côtés) :',
	'safety.qrFor':
		'À scanner par {peer} (Détails dans la conversation, puis « Choisir une image » ou la caméra) :',
	'safety.verified': 'Vérifié : oui, sur cet appareil depuis le {since}.',
	'safetyCode.digits': 'le numéro de sécurité contient autre chose que des chiffres',
	'safetyCode.format': 'le numéro de sécurité n’est ni 60 chiffres ni un code hourglass-safety:',
	'safetyCode.length': 'le numéro de sécurité n’a pas 60 chiffres',
	'safetyCode.version': 'le numéro de sécurité est un code d’une version que ce hourglass ne lit pas',
	'save.badName': 'non enregistré : « {name} » n’est pas un simple nom de fichier',
	'save.done': 'enregistré {path}',
	'save.dropped':
		'téléchargement en pause de {name} (de {from}, {id}) abandonné : son message a été supprimé',
	'save.expired':
		'téléchargement en pause de {name} (de {from}, {id}) abandonné : pas repris depuis {days} jours',
	'save.failed': 'non enregistré : {reason}',
	'save.paused': '{name} en pause à {percent} % (« hourglass read --save-dir {dir} » le reprend) : {reason}',
	'save.resuming': 'reprise de {name} (de {from}, {id})',
	'sealed.unlocks': 's’ouvre le {at} (dans {wait})',
	'send.again': ' (déjà stocké)',
	'send.locked': '{id} scellé pour {to} jusqu’au {until} ; {told}.',
	'send.notTold': '{to} n’est pas prévenu',
	'send.sent': '{id} envoyé à {to}.',
	'send.told': '{to} voit un message scellé',
	'sendFile.locked': '{id} scellé pour {to} jusqu’au {until} : {what} ; {told}.',
	'sendFile.sent': '{id} envoyé à {to} : {what}.',
	'sendFile.unreadable': 'send-file : impossible de lire {path} ({reason})',
	'sendFile.what': '{name} ({size}, fichier {fileId})',
	'session.connectTimeout': 'Pas de connexion au hub en {ms} ms.',
	'session.noAccount':
		'Aucun compte pour {server} sur cet appareil : lancez d’abord « hourglass register <nom> » ou « hourglass login <nom> ».',
	'session.noAccountNamed':
		'Aucun compte « {username} » pour {server} sur cet appareil : lancez d’abord « hourglass register <nom> » ou « hourglass login <nom> ».',
	'session.refused': 'Le hub a refusé la connexion : {reason}',
	'sessions.ago': 'il y a {duration}',
	'sessions.ambiguous': '« {prefix} » commence plusieurs id de session : donnez-en davantage',
	'sessions.hint':
		'Déconnectez-en un avec « hourglass sessions revoke <ID> », tous les autres avec « hourglass sessions revoke --others ».',
	'sessions.noMatch': 'Aucune session de {username} n’a un id commençant par « {prefix} ».',
	'sessions.now': 'maintenant',
	'sessions.revokedOne': '{device} déconnecté ({id}).',
	'sessions.revokedOthers': {
		one: '{count} autre appareil déconnecté.',
		other: '{count} autres appareils déconnectés.',
	},
	'sessions.revokedThis': 'Cet appareil est déconnecté ; la prochaine commande se reconnecte.',
	'sessions.trusted': 'de confiance',
	'sessions.unknownPlace': 'inconnu',
	'table.device': 'APPAREIL',
	'table.from': 'DEPUIS',
	'table.lastSeen': 'VU',
	'table.signedIn': 'CONNECTÉ LE',
	'table.what': 'QUOI',
	'table.when': 'QUAND',
	'timer.off': '{from} a désactivé les messages éphémères (avec {to})',
	'timer.set': '{from} a réglé les messages éphémères sur {duration} (avec {to})',
	'unlock.day': '« {input} » : le mois {month} de {year} n’a pas de jour {day}',
	'unlock.dst': '« {input} » n’existe pas dans le fuseau horaire local (un changement d’heure)',
	'unlock.month': '« {input} » : pas de mois {month}',
	'unlock.notADate':
		'« {input} » n’est pas une date : utilisez ISO 8601 (2030-01-31T09:00, 2030-01-31T09:00:00Z) ou JJ:MM:AAAA:HH:MM:SS',
	'unlock.time': '« {input} » : cette heure n’existe pas',
	'unlock.year': '« {input} » : l’année doit être 1970 ou après',
	'unlock.zone': '« {zone} » n’est pas un décalage horaire',
	'unlock.zoneNeedsTime': '« {input} » : un fuseau horaire demande une heure, p. ex. 2030-01-31T09:00Z',
	'unverify.done': '{peer} n’est plus vérifié sur cet appareil.',
	'unverify.notVerified': '{peer} n’était pas vérifié sur cet appareil.',
	'verify.match': 'Concordance : {peer} est vérifié sur cet appareil. Personne ne s’interpose entre vous.',
	'verify.mismatch':
		'Le numéro de sécurité ne correspond pas à celui des clés que cet appareil détient pour {peer}. Quelqu’un s’interpose peut-être (un hub qui distribue ses propres clés), ou l’un de vous a de nouvelles clés que l’autre n’a pas acceptées. Rien n’a été marqué vérifié ; cherchez pourquoi, en personne ou par un appel.',
	'verify.otherPeople':
		'Ce code n’a pas été fait par {peer} pour {me} : il appartient à une autre paire de personnes.',
	'verify.ownCode': 'c’est votre propre code de sécurité : donnez celui qu’affiche {peer}',
	'verify.unreadable': 'ce n’est ni 60 chiffres ni un code hourglass-safety:',
};
