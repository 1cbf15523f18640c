#!/usr/bin/env python3
"""Peers of bench-search on the same corpus and queries, measured in the same run.

PostgreSQL 15 (Debian) with a GIN tsvector index for text and filters, tantivy (PyPI bindings)
for text, faiss-cpu (PyPI) HNSW for vectors at recall@10 >= 0.95. Prints rows in the format
bench-search prints its own.

Usage: search_peers.py DIR N   (DIR holds corpus.tsv, vectors.f32, queries.json from bench-search)
"""
import concurrent.futures as cf
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

DIR, N = sys.argv[1], int(sys.argv[2])
DIM = 512
QUERIES = json.load(open(os.path.join(DIR, "queries.json")))


def pct(lat, p):
    lat = sorted(lat)
    return lat[int((len(lat) - 1) * p)] * 1e3


def row(name, clients, lat, wall, hits):
    print(f"{name:<28} {clients:>8} {pct(lat, .5):>9.2f} {pct(lat, .95):>9.2f} {pct(lat, .99):>9.2f} {len(lat) / wall:>9.0f} {hits / len(lat):>10.1f}", flush=True)


def measure(name, fn, items, clients_list=(1, 8)):
    for x in items[:50]:
        fn(x)  # warm-up
    for clients in clients_list:
        lat, hits = [], 0

        def one(x):
            t = time.perf_counter()
            h = fn(x)
            return time.perf_counter() - t, h

        t0 = time.perf_counter()
        if clients == 1:
            res = [one(x) for x in items]
        else:
            with cf.ThreadPoolExecutor(clients) as ex:
                res = list(ex.map(one, items))
        wall = time.perf_counter() - t0
        for l, h in res:
            lat.append(l)
            hits += h
        row(name, clients, lat, wall, hits)


def corpus():
    with open(os.path.join(DIR, "corpus.tsv"), encoding="utf-8") as f:
        for line in f:
            yield line.rstrip("\n").split("\t")


def header():
    print(f"{'peer workload':<28} {'clients':>8} {'p50 ms':>9} {'p95 ms':>9} {'p99 ms':>9} {'QPS':>9} {'avg hits':>10}")


# ---------------------------------------------------------------- tantivy (Python bindings)
def run_tantivy():
    import tantivy

    sb = tantivy.SchemaBuilder()
    sb.add_text_field("id", stored=True, tokenizer_name="raw")
    for f in ("title", "description", "tags"):
        sb.add_text_field(f, tokenizer_name="default")
    sb.add_text_field("kind", tokenizer_name="raw")
    sb.add_text_field("project", tokenizer_name="raw")
    sb.add_text_field("status", tokenizer_name="raw")
    schema = sb.build()
    path = tempfile.mkdtemp(dir=DIR)
    index = tantivy.Index(schema, path=path)
    t = time.perf_counter()
    w = index.writer(heap_size=512_000_000, num_threads=os.cpu_count())
    for r in corpus():
        w.add_document(tantivy.Document(id=r[0], title=r[2], description=r[3], tags=r[4], kind=r[5], project=r[6], status=r[7]))
    w.commit()
    w.wait_merging_threads()
    index.reload()
    print(f"tantivy-py: indexed {N} in {time.perf_counter() - t:.1f} s (title^3 description^2 tags^2, default tokenizer, no stemming)")
    searcher = index.searcher()
    boosts = {"title": 3.0, "description": 2.0, "tags": 2.0}

    def text(q):
        words = " ".join("+" + w for w in q["text"].split())
        query = index.parse_query(words, ["title", "description", "tags"], field_boosts=boosts)
        return len(searcher.search(query, 10).hits)

    def filtered(q):
        words = " ".join("+" + w for w in q["text"].split())
        query = index.parse_query(f"{words} +kind:{q['kind']} +project:{q['project']}", ["title", "description", "tags"], field_boosts=boosts)
        return len(searcher.search(query, 10).hits)

    measure("tantivy-py text", text, QUERIES)
    measure("tantivy-py text+filter", filtered, QUERIES)
    shutil.rmtree(path, ignore_errors=True)


# ---------------------------------------------------------------- PostgreSQL 15, GIN tsvector
def run_postgres():
    import psycopg

    pgdir = os.path.join(DIR, "pg")
    shutil.rmtree(pgdir, ignore_errors=True)
    os.makedirs(pgdir)
    bindir = "/usr/lib/postgresql/15/bin"
    as_pg = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if os.geteuid() == 0:
        shutil.chown(pgdir, "postgres", "postgres")
        os.chmod(DIR, 0o755)
    subprocess.run(as_pg + [f"{bindir}/initdb", "-D", pgdir, "-U", "postgres", "--no-sync"], check=True, stdout=subprocess.DEVNULL)
    port = "55432"
    opts = f"-p {port} -k {pgdir} -c shared_buffers=2GB -c work_mem=64MB -c max_connections=50 -c fsync=off -c synchronous_commit=off -c maintenance_work_mem=1GB"
    subprocess.run(as_pg + [f"{bindir}/pg_ctl", "-D", pgdir, "-o", opts, "-l", os.path.join(pgdir, "log"), "-w", "start"], check=True, stdout=subprocess.DEVNULL)
    dsn = f"host={pgdir} port={port} user=postgres dbname=postgres"
    try:
        with psycopg.connect(dsn, autocommit=True) as c:
            t = time.perf_counter()
            c.execute("CREATE TABLE assets (id uuid, lang text, title text, description text, tags text, kind text, project text, status text)")
            with c.cursor().copy("COPY assets FROM STDIN") as cp:
                with open(os.path.join(DIR, "corpus.tsv"), "rb") as f:
                    while chunk := f.read(1 << 20):
                        cp.write(chunk)
            c.execute("""ALTER TABLE assets ADD COLUMN tsv tsvector GENERATED ALWAYS AS (
                setweight(to_tsvector('spanish', title), 'A') || setweight(to_tsvector('spanish', description), 'B')
                || setweight(to_tsvector('spanish', tags), 'B')) STORED""")
            c.execute("CREATE INDEX assets_tsv ON assets USING gin (tsv)")
            c.execute("CREATE INDEX assets_kind_project ON assets (kind, project)")
            c.execute("VACUUM ANALYZE assets")
            print(f"postgresql: loaded and indexed {N} in {time.perf_counter() - t:.1f} s (GIN on a weighted spanish tsvector)")
        import queue

        conns = [psycopg.connect(dsn, autocommit=True) for _ in range(9)]
        pool = queue.Queue()
        for c in conns:
            pool.put(c)

        def pooled(fn):
            def run(q):
                c = pool.get()
                try:
                    return fn(c, q)
                finally:
                    pool.put(c)
            return run

        sql = """SELECT id, ts_rank(tsv, q) AS r FROM assets, plainto_tsquery('spanish', %s) q
                 WHERE tsv @@ q AND status <> 'deleted' {} ORDER BY r DESC LIMIT 10"""

        @pooled
        def text(c, q):
            return len(c.execute(sql.format(""), (q["text"],)).fetchall())

        @pooled
        def filtered(c, q):
            return len(c.execute(sql.format("AND kind = %s AND project = %s"), (q["text"], q["kind"], q["project"])).fetchall())

        @pooled
        def facets(c, q):
            n = len(c.execute(sql.format(""), (q["text"],)).fetchall())
            c.execute("""SELECT kind, status, project, count(*) FROM assets, plainto_tsquery('spanish', %s) q
                              WHERE tsv @@ q AND status <> 'deleted' GROUP BY GROUPING SETS ((kind), (status), (project))""", (q["text"],)).fetchall()
            return n

        measure("postgresql text", text, QUERIES)
        measure("postgresql text+filter", filtered, QUERIES)
        # GROUP BY over every match is slow here: the first 100 queries keep the run short.
        measure("postgresql text+facets (100 q)", facets, QUERIES[:100])
        for c in conns:
            c.close()
    finally:
        subprocess.run(as_pg + [f"{bindir}/pg_ctl", "-D", pgdir, "-m", "immediate", "stop"], stdout=subprocess.DEVNULL)
        shutil.rmtree(pgdir, ignore_errors=True)


# ---------------------------------------------------------------- faiss HNSW
def run_faiss():
    import faiss

    xb = np.fromfile(os.path.join(DIR, "vectors.f32"), dtype=np.float32).reshape(-1, DIM)
    xq = np.array([q["vector"] for q in QUERIES], dtype=np.float32)
    gt_q = xq[:200]
    exact = faiss.IndexFlatIP(DIM)
    exact.add(xb)
    _, truth = exact.search(gt_q, 10)
    del exact
    index = faiss.IndexHNSWFlat(DIM, 16, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = 128
    t = time.perf_counter()
    index.add(xb)
    print(f"faiss: HNSW (M=16, efConstruction=128, flat f32) built over {len(xb)} in {time.perf_counter() - t:.1f} s")
    chosen = None
    for ef in (16, 32, 48, 64, 96, 128, 192, 256, 384, 512):
        index.hnsw.efSearch = ef
        _, got = index.search(gt_q, 10)
        recall = np.mean([len(set(g) & set(t)) / 10 for g, t in zip(got, truth)])
        print(f"faiss: efSearch={ef} recall@10={recall:.3f}")
        if recall >= 0.95:
            chosen = ef
            break
    index.hnsw.efSearch = chosen or 512
    faiss.omp_set_num_threads(1)

    def search(i):
        _, ids = index.search(xq[i:i + 1], 10)
        return int((ids >= 0).sum())

    measure(f"faiss vector (ef={index.hnsw.efSearch})", search, list(range(len(xq))))


if __name__ == "__main__":
    header()
    only = sys.argv[3:]  # optionally: a subset of tantivy, postgresql, faiss
    for name, fn in (("tantivy", run_tantivy), ("postgresql", run_postgres), ("faiss", run_faiss)):
        if only and name not in only:
            continue
        try:
            fn()
        except Exception as e:  # report and go on: one missing peer must not hide the others
            print(f"{name}: FAILED: {e}", flush=True)
