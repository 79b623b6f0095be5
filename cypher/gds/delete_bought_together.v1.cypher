// Delete all BOUGHT_TOGETHER (the template rewrites them). Auto-commit.
MATCH (:Product)-[t:BOUGHT_TOGETHER]->(:Product)
CALL (t) { DELETE t } IN TRANSACTIONS OF 10000 ROWS
