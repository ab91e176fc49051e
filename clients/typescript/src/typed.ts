// Compiled in CI and never run: it fails to compile when the document stops typing what a client
// relies on (an answer typed as unknown, a renamed field, a lost operation).
import { mindlyClient } from "./index";

export async function typedUse(): Promise<number> {
  const api = mindlyClient("http://127.0.0.1:8000", () => "token");
  const login = await api.POST("/api/v1/auth/login", { body: { email: "a@example.com", password: "secret-pass" } });
  const access: string | undefined = login.data?.data.access_token;
  const submitted = await api.POST("/api/v1/questions/submit", {
    body: { question_id: "q", selected_option: "A", confidence_rating: 3, time_taken_seconds: 10 },
  });
  const xp: number = submitted.data?.data.xp_awarded ?? 0;
  const due = await api.GET("/api/v1/flashcards/due", { params: { query: { limit: 10 } } });
  const first: string | undefined = due.data?.data.cards[0]?.flashcard_id;
  const failed: string | undefined = submitted.error?.errors[0]?.code;
  return xp + (access?.length ?? 0) + (first?.length ?? 0) + (failed?.length ?? 0);
}
