package llmtest_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"google.golang.org/genai"

	"concierge/assistant"
	"concierge/provider/providertest"
)

// The Gemini fake speaks what the genai SDK expects, streamed or not.
func TestGeminiFakeWithSDK(t *testing.T) {
	srv := providertest.NewGeminiServer(t, providertest.GeminiOptions{APIKey: "k", Reply: providertest.Chunks("Hello ", "there [1].")})
	c, err := genai.NewClient(context.Background(), &genai.ClientConfig{APIKey: "k", Backend: genai.BackendGeminiAPI,
		HTTPOptions: genai.HTTPOptions{BaseURL: srv.URL}})
	if err != nil {
		t.Fatal(err)
	}
	cfg := &genai.GenerateContentConfig{SystemInstruction: genai.NewContentFromText("Be brief.", genai.RoleUser), MaxOutputTokens: 64}
	resp, err := c.Models.GenerateContent(context.Background(), "gemini-2.5-flash", genai.Text("Hi"), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Text() != "Hello there [1]." || resp.UsageMetadata.CandidatesTokenCount == 0 || resp.Candidates[0].FinishReason != genai.FinishReasonStop {
		t.Errorf("got %q %+v", resp.Text(), resp.UsageMetadata)
	}
	last := srv.Last()
	if last.Method != "generateContent" || last.System != "Be brief." || last.MaxOutputTokens != 64 || last.LastUser() != "Hi" || last.Status != 200 {
		t.Errorf("recorded %+v", last)
	}
	var parts []string
	for r, err := range c.Models.GenerateContentStream(context.Background(), "gemini-2.5-flash", genai.Text("Hi"), cfg) {
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, r.Text())
	}
	if strings.Join(parts, "|") != "Hello |there [1]." {
		t.Errorf("stream %q", parts)
	}
	srv.Fail(providertest.Fault{Status: 429})
	_, err = c.Models.GenerateContent(context.Background(), "gemini-2.5-flash", genai.Text("Hi"), cfg)
	var apiErr genai.APIError
	if !errors.As(err, &apiErr) || apiErr.Code != 429 || apiErr.Status != "RESOURCE_EXHAUSTED" {
		t.Errorf("error %v", err)
	}
	bad, _ := genai.NewClient(context.Background(), &genai.ClientConfig{APIKey: "wrong", Backend: genai.BackendGeminiAPI,
		HTTPOptions: genai.HTTPOptions{BaseURL: srv.URL}})
	_, err = bad.Models.GenerateContent(context.Background(), "gemini-2.5-flash", genai.Text("Hi"), nil)
	if !errors.As(err, &apiErr) || apiErr.Code != 400 || !strings.Contains(apiErr.Message, "API key not valid") {
		t.Errorf("error %v", err)
	}
}

// A server that ignores "stream" still answers through the openai provider.
func TestOpenAIFakeWithoutStreaming(t *testing.T) {
	srv := providertest.NewOpenAIServer(t, providertest.OpenAIOptions{IgnoreStream: true, Reply: providertest.Chunks("Whole ", "answer [1].")})
	p, err := assistant.NewOpenAI(assistant.OpenAIConfig{BaseURL: srv.URL, Model: "m"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	gen, err := p.Generate(context.Background(), assistant.Prompt{System: "sys", Messages: []assistant.PromptMessage{{Role: "user", Text: "q"}}},
		func(s string) error { got = append(got, s); return nil })
	if err != nil || gen.Text != "Whole answer [1]." || len(got) != 1 || gen.PromptTokens == 0 {
		t.Fatalf("%+v %q %v", gen, got, err)
	}
	if r := srv.Last(); r.System != "sys" || r.LastUser() != "q" || !r.Stream {
		t.Errorf("recorded %+v", r)
	}
}
