// How many BOUGHT_TOGETHER relationships exist. returns: n
MATCH ()-[bt:BOUGHT_TOGETHER]->()
RETURN count(bt) AS n
