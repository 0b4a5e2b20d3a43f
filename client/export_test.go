package client

// ExpireAccessTokenForTest replaces the stored access token with one the
// server refuses, as if it had expired.
func ExpireAccessTokenForTest(c *Client) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.st.AccessToken = "expired.token.value"
}
