package assistant_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"concierge/assistant"
)

func TestDetectLanguage(t *testing.T) {
	for text, want := range map[string]string{
		"How do I cancel my subscription?":                      "en",
		"Can I get a refund?":                                   "en",
		"Bonjour, comment puis-je annuler mon abonnement ?":     "fr",
		"Est-ce que la livraison est gratuite ?":                "fr",
		"Merci beaucoup":                                        "fr",
		"¿Cómo puedo cancelar mi suscripción?":                  "es",
		"Hola, ¿cuánto cuesta el plan?":                         "es",
		"Wie kann ich mein Abonnement kündigen?":                "de",
		"Hallo, ich habe eine Frage zur Rechnung":               "de",
		"Como posso cancelar a minha assinatura?":               "pt",
		"Olá, não consigo entrar na minha conta":                "pt",
		"Come posso annullare il mio abbonamento?":              "it",
		"Ciao, quanto costa il piano Business?":                 "it",
		"Hoe kan ik mijn abonnement opzeggen?":                  "nl",
		"Ik heb een vraag over mijn factuur":                    "nl",
		"":                                                      "en",
		"12345 ???":                                             "en",
		"Tidewise Clock":                                        "en",
		"Qu'est-ce que c'est, l'intégration Slack ?":            "fr",
		"Why doesn't the app open? It's been like that all day": "en",
	} {
		require.Equal(t, want, assistant.DetectLanguage(text), text)
	}
}

func TestTexts(t *testing.T) {
	for _, lang := range assistant.Languages {
		seen := map[string]bool{}
		for _, k := range assistant.TextKeys {
			s := assistant.Text(lang, k)
			require.NotEmpty(t, s, "%s %s", lang, k)
			require.False(t, seen[s], "%s %s: duplicate text", lang, k)
			seen[s] = true
			if lang != "en" {
				require.NotEqual(t, assistant.Text("en", k), s, "%s %s is not translated", lang, k)
			}
			require.Equal(t, k == assistant.TextAgentJoined, strings.Contains(s, "%s"), "%s %s", lang, k)
		}
	}
	require.Equal(t, "I've asked a teammate to join; they'll reply here shortly.", assistant.Text("en", assistant.TextHandoffWaiting))
	require.True(t, strings.HasPrefix(assistant.Text("en", assistant.TextNoAgentOnline), "Our team isn't available right now"))
	require.Equal(t, assistant.Text("fr", assistant.TextDeclined), assistant.Text("fr-CA", assistant.TextDeclined))
	require.Equal(t, assistant.Text("en", assistant.TextDeclined), assistant.Text("ja", assistant.TextDeclined))
	require.Equal(t, assistant.Text("pt", assistant.TextFailed), assistant.Text("PT_br", assistant.TextFailed))
	require.Equal(t, "", assistant.Text("en", "nope"))
	require.Equal(t, "Marie joined the conversation.", assistant.AgentJoined("en", "Marie"))
	require.Equal(t, "Marie a rejoint la conversation.", assistant.AgentJoined("fr", " Marie\n"))
	require.Equal(t, "A teammate joined the conversation.", assistant.AgentJoined("en", ""))
	require.Equal(t, "French", assistant.LanguageName("fr"))
	require.Equal(t, "English", assistant.LanguageName("xx"))
}
