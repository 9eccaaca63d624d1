package chat

import "concierge/assistant"

// The notes posted to the visitor, in the conversation's language.
const (
	textHandoffWaiting = assistant.TextHandoffWaiting
	textNoAgentOnline  = assistant.TextNoAgentOnline
	textBackToBot      = assistant.TextBackToBot
	textClosed         = assistant.TextConversationClosed
)

func textFor(lang string, key assistant.TextKey) string { return assistant.Text(lang, key) }

// agentJoined says that name joined the conversation.
func agentJoined(lang, name string) string { return assistant.AgentJoined(lang, name) }

func detectLanguage(text string) string { return assistant.DetectLanguage(text) }
