package meta

import "slices"

// WebhookObjects lists the objects in the order the README documents them.
var WebhookObjects = []string{ObjectPage, ObjectInstagram, ObjectWhatsApp}

// webhookFields is the one list of fields per object. Messenger calls the read receipt
// message_reads; messaging_seen is Instagram's name for it and the Page edge refuses it.
var webhookFields = map[string][]string{
	ObjectPage:      {"messages", "messaging_postbacks", "message_reactions", "message_reads", "message_echoes"},
	ObjectInstagram: {"messages", "messaging_postbacks", "message_reactions", "messaging_seen", "messaging_referral"},
	ObjectWhatsApp:  {"messages"},
}

// WebhookFields returns the fields omnilink needs for a webhook object (ObjectPage,
// ObjectInstagram, ObjectWhatsApp); an edge refuses fields of another object. The Page list is what
// POST /{page-id}/subscribed_apps is sent, for a Page and for the Page linked to an Instagram
// account (Instagram's own fields are chosen at app level, in the App Dashboard).
func WebhookFields(object string) []string {
	return slices.Clone(webhookFields[object])
}
