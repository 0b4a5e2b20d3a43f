package client

// ExpireAccessTokenForTest replaces the stored access token with one the
// server refuses, as if it had expired.
func ExpireAccessTokenForTest(c *Client) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.st.AccessToken = "expired.token.value"
}

// SetStepHookForTest makes the client call fn at each named step of the
// photo outbox ("photos-copied": a visit's photos are copied but the state
// naming them is not saved yet; "photo-stored": a stored photo left the
// saved outbox but its copy is not removed yet).
func SetStepHookForTest(c *Client, fn func(step string)) { c.stepHook = fn }
