"""DynamoDB access (pynamodb): the only code that touches the tables."""
