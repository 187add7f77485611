// Package whatsapp is the WhatsApp channel of the gateway, on whatsmeow
// (the original uses Baileys): the device store (whatsmeow's SQL store on
// pure-Go SQLite under <stateDir>/credentials/whatsapp/<accountId>/), QR
// login for web.login.start/wait and the CLI, the runtime connection
// (inbound messages, read receipts, reconnect with backoff, status) and
// outbound sends (doc/messaging.md §5.3).
//
// The network sits behind Client, the few *whatsmeow.Client calls the
// channel makes, so tests drive it with whatsmeow's own event structs.
// Nothing here runs before a WhatsApp account is built: a gateway without
// a linked account never opens SQLite.
package whatsapp
