-- Fallback path, step 2 of 3: parse_s3_access_logs, the Python UDTF that turns one raw log line
-- into one typed row.
-- Applied by `s3-access-logs setup-snowflake --fallback` (sql/fallback/*.sql: no placeholders).
--
-- WHEN TO ENABLE: always safe to create; it changes no data. The task (03-task.sql) uses it, and so
-- does the parity check (sql/checks/parity.sql).
--
-- It returns the parser's 28 columns with the names and order of s3_access_logs
-- (shared/access-log/columns.ts), then reject_reason:
--   * a line it parses: reject_reason is NULL;
--   * a line it cannot parse: reject_reason holds the reason (the TypeScript parser's reasons:
--     too_few_fields, bad_time, bad_request_uri, bad_referrer, bad_useragent,
--     bad_number:<column>, line_too_long) and every other column is NULL.
-- Exactly one row per input line, so a line is never dropped (the quickstart's regex UDTF dropped
-- every line it did not match). A bug in the handler is a reject too (udtf_error:<exception>).
--
-- The handler is a line-by-line port of the TypeScript parser (shared/access-log/parse-line.ts
-- and time.ts): same tokenizing, same NULLs, same reasons. Types: requestdatetime is the ISO-8601
-- UTC text the parser produces (e.g. 2019-02-06T00:00:38Z); the task converts it with an explicit
-- format. Locally, test/parity/fallback-udtf.test.ts runs the text between the $$ below with python3
-- and compares it with the TypeScript parser on the corpus and on generated lines.
--
-- CREATE OR REPLACE: a function holds no state, so replacing it is always safe (idempotent).

CREATE OR REPLACE FUNCTION parse_s3_access_logs(log VARCHAR)
  RETURNS TABLE (
    bucketowner VARCHAR,
    bucket_name VARCHAR,
    requestdatetime VARCHAR,
    remoteip VARCHAR,
    requester VARCHAR,
    requestid VARCHAR,
    operation VARCHAR,
    key VARCHAR,
    request_uri VARCHAR,
    httpstatus NUMBER(38, 0),
    errorcode VARCHAR,
    bytessent NUMBER(38, 0),
    objectsize NUMBER(38, 0),
    totaltime NUMBER(38, 0),
    turnaroundtime NUMBER(38, 0),
    referrer VARCHAR,
    useragent VARCHAR,
    versionid VARCHAR,
    hostid VARCHAR,
    sigv VARCHAR,
    ciphersuite VARCHAR,
    authtype VARCHAR,
    endpoint VARCHAR,
    tlsversion VARCHAR,
    accesspointarn VARCHAR,
    aclrequired BOOLEAN,
    sourceregion VARCHAR,
    extrafields VARCHAR,
    reject_reason VARCHAR
  )
  LANGUAGE PYTHON
  RUNTIME_VERSION = '3.11'
  HANDLER = 'S3AccessLogParser'
  COMMENT = 'S3 access logs fallback path: one raw access-log line -> the 28 typed columns of s3_access_logs + reject_reason (NULL when parsed). Port of shared/access-log/parse-line.ts.'
AS
$$
# parse_s3_access_logs handler: a port of shared/access-log/parse-line.ts and time.ts.
# Keep it in step with the TypeScript parser; test/parity/fallback-udtf.test.ts checks that it is.
# Standard library only: it runs in Snowflake's Python 3.11 sandbox without packages.
from datetime import datetime, timedelta

COLUMN_COUNT = 28
MAX_LINE_CHARS = 1 << 20  # shared/access-log/read-lines.ts, counted in UTF-16 code units
MAX_HEAD_TOKENS = 48
MAX_SAFE_INTEGER = 9007199254740991
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
DAYS_IN_MONTH = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
S3_TIME_LENGTH = 26


class Reject(Exception):
    def __init__(self, reason):
        Exception.__init__(self, reason)
        self.reason = reason


def at(s, i):
    # JavaScript's charCodeAt past the end is NaN, equal to nothing: '' plays that part.
    return s[i] if 0 <= i < len(s) else ""


def skip_spaces(s, i, n):
    while i < n and s[i] == " ":
        i += 1
    return i


def token_end(s, i, n):
    j = s.find(" ", i)
    return n if j == -1 or j > n else j


def text(s, a, b):
    # "-" is NULL
    return None if b - a == 1 and s[a] == "-" else s[a:b]


def integer(s, a, b):
    # value; -1 for "-" (NULL); -2 when malformed
    length = b - a
    if length == 1 and s[a] == "-":
        return -1
    if length == 0 or length > 16:
        return -2
    v = 0
    for i in range(a, b):
        d = ord(s[i]) - 48
        if d < 0 or d > 9:
            return -2
        v = v * 10 + d
    return -2 if v > MAX_SAFE_INTEGER else v


def nullable(v):
    return None if v < 0 else v


def is_operation(s, a, b):
    # REST.GET.OBJECT, S3.COMPUTE.OBJECT.CHECKSUM: upper-case words, digits, _, two or more dots
    c0 = ord(s[a])
    if c0 < 65 or c0 > 90:
        return False
    dots = 0
    prev_dot = False
    for i in range(a + 1, b):
        c = ord(s[i])
        if c == 46:
            if prev_dot:
                return False
            dots += 1
            prev_dot = True
        elif 65 <= c <= 90 or 48 <= c <= 57 or c == 95:
            prev_dot = False
        else:
            return False
    return dots >= 2 and not prev_dot


def two_digits(s, i):
    a = ord(s[i]) - 48
    b = ord(s[i + 1]) - 48
    if a < 0 or a > 9 or b < 0 or b > 9:
        return -1
    return a * 10 + b


def is_leap_year(y):
    return (y % 4 == 0 and y % 100 != 0) or y % 400 == 0


def s3_time_to_iso(s, start, end):
    # [06/Feb/2019:00:00:38 +0000] (without brackets) -> 2019-02-06T00:00:38Z, offset applied
    if end - start != S3_TIME_LENGTH:
        return None
    a = start
    if s[a + 2] != "/" or s[a + 6] != "/" or s[a + 11] != ":" or s[a + 14] != ":" or s[a + 17] != ":" or s[a + 20] != " ":
        return None
    day = two_digits(s, a)
    month = -1
    for m in range(12):
        if s.startswith(MONTHS[m], a + 3):
            month = m
            break
    y1 = two_digits(s, a + 7)
    y2 = two_digits(s, a + 9)
    hour = two_digits(s, a + 12)
    minute = two_digits(s, a + 15)
    second = two_digits(s, a + 18)
    sign_char = s[a + 21]
    off_h = two_digits(s, a + 22)
    off_m = two_digits(s, a + 24)
    if month < 0 or y1 < 10 or y2 < 0 or hour < 0 or hour > 23 or minute < 0 or minute > 59:
        return None
    if second < 0 or second > 59 or off_h < 0 or off_h > 23 or off_m < 0 or off_m > 59:
        return None
    if sign_char != "+" and sign_char != "-":
        return None
    year = y1 * 100 + y2
    max_day = 29 if month == 1 and is_leap_year(year) else DAYS_IN_MONTH[month]
    if day < 1 or day > max_day:
        return None
    if off_h == 0 and off_m == 0:
        return "%s-%02d-%sT%sZ" % (s[a + 7:a + 11], month + 1, s[a:a + 2], s[a + 12:a + 20])
    sign = 1 if sign_char == "+" else -1
    try:
        t = datetime(year, month + 1, day, hour, minute, second) - timedelta(minutes=sign * (off_h * 60 + off_m))
    except OverflowError:
        return None
    if t.year < 1000:  # keeps the fixed-width ISO form, as the TypeScript parser does
        return None
    return "%04d-%02d-%02dT%02d:%02d:%02dZ" % (t.year, t.month, t.day, t.hour, t.minute, t.second)


def parse_middle(s, i, n):
    # From just after the Request-URI: status, error code and the four numbers.
    # Returns (status, errA, errB, bytes, object, total, turn, next) or raises Reject.
    if i < n and s[i] != " ":
        raise Reject("bad_request_uri")
    a = skip_spaces(s, i, n)
    values = [0, 0, 0, 0, 0, 0, 0]
    names = ("httpstatus", None, "bytessent", "objectsize", "totaltime", "turnaroundtime")
    for f in range(6):
        if a >= n:
            raise Reject("too_few_fields")
        b = token_end(s, a, n)
        if f == 1:
            values[1] = a
            values[2] = b
        else:
            v = integer(s, a, b)
            if v == -2:
                raise Reject("bad_number:" + names[f])
            values[0 if f == 0 else f + 1] = v
        a = skip_spaces(s, b, n)
    return values + [a]


def quoted_request_uri(s, i, n):
    # A quoted Request-URI may hold raw quotes: it ends at ' HTTP/x.y"' followed by fields that fit
    # status, error code and numbers; failing that, at the first quote after which they fit.
    # Returns (closing quote index, middle) or raises the most telling Reject.
    first_error = None
    start = i + 1
    while True:
        h = s.find(" HTTP/", start)
        if h == -1 or h >= n:
            break
        q = h + 6
        while q < n and ("0" <= s[q] <= "9" or s[q] == "."):
            q += 1
        if q > h + 6 and at(s, q) == '"':
            try:
                return q, parse_middle(s, q + 1, n)
            except Reject as e:
                if first_error is None:
                    first_error = e
        start = h + 1
    j = i + 1
    while True:
        j = s.find('"', j)
        if j == -1 or j >= n:
            break
        if j + 1 == n or at(s, j + 1) == " ":
            try:
                return j, parse_middle(s, j + 1, n)
            except Reject as e:
                if first_error is None:
                    first_error = e
        j += 1
    raise first_error if first_error is not None else Reject("too_few_fields")


def is_dash_field(s, i, n):
    return at(s, i) == "-" and (i + 1 == n or at(s, i + 1) == " ")


def parse_line(s):
    n = len(s)
    while n > 0 and s[n - 1] in " \t\n\r":
        n -= 1

    # Bucket owner, bucket, [time].
    i = skip_spaces(s, 0, n)
    if i >= n:
        raise Reject("too_few_fields")
    owner_a = i
    owner_b = token_end(s, i, n)
    i = skip_spaces(s, owner_b, n)
    if i >= n:
        raise Reject("too_few_fields")
    bucket_a = i
    bucket_b = token_end(s, i, n)
    i = skip_spaces(s, bucket_b, n)
    if i >= n:
        raise Reject("too_few_fields")
    if s[i] != "[":
        raise Reject("bad_time")
    close = s.find("]", i)
    if close == -1 or close >= n:
        raise Reject("too_few_fields" if close == -1 and n - i < 28 else "bad_time")
    time = s3_time_to_iso(s, i + 1, close)
    if time is None:
        raise Reject("bad_time")
    if close + 1 < n and s[close + 1] != " ":
        raise Reject("bad_time")
    i = skip_spaces(s, close + 1, n)

    # Remote IP, requester (may hold spaces), request ID, operation: anchored on the operation.
    head_start = []
    head_end = []
    count = 0
    op = -1
    while count < MAX_HEAD_TOKENS and i < n:
        if count >= 3 and s[i] == '"':
            break
        e = token_end(s, i, n)
        head_start.append(i)
        head_end.append(e)
        if count >= 3 and is_operation(s, i, e):
            op = count
            break
        count += 1
        i = skip_spaces(s, e, n)
    if op == -1:
        if count < 4:
            raise Reject("too_few_fields")
        op = 3
    remoteip = text(s, head_start[0], head_end[0])
    requester = text(s, head_start[1], head_end[op - 2])
    requestid = text(s, head_start[op - 1], head_end[op - 1])
    operation = text(s, head_start[op], head_end[op])
    i = skip_spaces(s, head_end[op], n)
    if i >= n:
        raise Reject("too_few_fields")
    key_a = i
    key_b = token_end(s, i, n)
    i = skip_spaces(s, key_b, n)
    if i >= n:
        raise Reject("too_few_fields")

    # Request-URI: -, "-", or a quoted request line.
    uri = None
    c = s[i]
    if c == "-" and (i + 1 == n or at(s, i + 1) == " "):
        mid = parse_middle(s, i + 1, n)
    elif c == '"':
        if at(s, i + 1) == "-" and at(s, i + 2) == '"' and (i + 3 == n or at(s, i + 3) == " "):
            mid = parse_middle(s, i + 3, n)
        else:
            q, mid = quoted_request_uri(s, i, n)
            uri = text(s, i + 1, q)
    else:
        raise Reject("bad_request_uri")
    status, err_a, err_b, bytes_sent, object_size, total_time, turn_time, i = mid

    # Referer: quoted (ends at a quote + spaces + what can start the User-Agent) or -.
    if i >= n:
        raise Reject("too_few_fields")
    referrer = None
    ch = s[i]
    if ch == '"':
        j = i + 1
        while True:
            j = s.find('"', j)
            if j == -1 or j >= n:
                raise Reject("too_few_fields")
            if at(s, j + 1) == " ":
                k = skip_spaces(s, j + 1, n)
                nk = at(s, k)
                if nk == '"' or (nk == "-" and (k + 1 == n or at(s, k + 1) == " ")):
                    break
            j += 1
        referrer = text(s, i + 1, j)
        i = skip_spaces(s, j + 1, n)
    elif is_dash_field(s, i, n):
        i = skip_spaces(s, i + 1, n)
    else:
        raise Reject("bad_referrer")

    # User-Agent: quoted (ends at the last quote of the line: no later field holds one) or -.
    if i >= n:
        raise Reject("too_few_fields")
    useragent = None
    ch = s[i]
    if ch == '"':
        j = s.rfind('"', 0, n)
        if j <= i or not (j + 1 == n or at(s, j + 1) == " "):
            j = i + 1
            while True:
                j = s.find('"', j)
                if j == -1 or j >= n:
                    raise Reject("too_few_fields")
                if j + 1 == n or at(s, j + 1) == " ":
                    break
                j += 1
        useragent = text(s, i + 1, j)
        i = j + 1
    elif is_dash_field(s, i, n):
        i = i + 1
    else:
        raise Reject("bad_useragent")

    # Fields 18..27 by position, then anything further verbatim.
    trailing = [None] * 10
    i = skip_spaces(s, i, n)
    f = 0
    while f < 10 and i < n:
        e = token_end(s, i, n)
        if f == 8:
            # aclrequired: Yes -> true, - -> false, anything else unknown (NULL)
            if e - i == 1 and s[i] == "-":
                trailing[8] = False
            elif e - i == 3 and s.startswith("Yes", i):
                trailing[8] = True
        else:
            trailing[f] = text(s, i, e)
        i = skip_spaces(s, e, n)
        f += 1
    extrafields = text(s, i, n) if i < n else None

    return (
        s[owner_a:owner_b],
        s[bucket_a:bucket_b],
        time,
        remoteip,
        requester,
        requestid,
        operation,
        text(s, key_a, key_b),
        uri,
        nullable(status),
        text(s, err_a, err_b),
        nullable(bytes_sent),
        nullable(object_size),
        nullable(total_time),
        nullable(turn_time),
        referrer,
        useragent,
    ) + tuple(trailing) + (extrafields,)


def utf16_length(s):
    return len(s) if s.isascii() else len(s.encode("utf-16-le")) // 2


class S3AccessLogParser:
    def process(self, log):
        try:
            if log is None:
                raise Reject("too_few_fields")
            if len(log) > MAX_LINE_CHARS // 2 and utf16_length(log) > MAX_LINE_CHARS:
                raise Reject("line_too_long")
            row = parse_line(log)
        except Reject as e:
            yield (None,) * COLUMN_COUNT + (e.reason,)
            return
        except Exception as e:  # never lose a line, not even to a bug in this handler
            yield (None,) * COLUMN_COUNT + ("udtf_error:" + type(e).__name__,)
            return
        yield row + (None,)
$$;
