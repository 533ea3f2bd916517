#!/bin/bash
# auditmesh fixture workload: EXECVE records the kernel has to split. Run through the shared
# capture.sh (root, loginuid 4242).
# 1) one 20,000-byte argument -> a1_len=20000 a1[0]=... a1[1]=... a1[2]=... (chunks of at
#    most 7,500 bytes, possibly spread over several EXECVE records). The content is
#    "1,2,3,...,", cut at 20,000 bytes, so a decoder that joins chunks out of order is caught.
# 2) one exec with 600 arguments (argc=601 with argv[0]) of ~20 bytes each -> the argument
#    list does not fit one record: several EXECVE records for one event, argc= only in the first.
/bin/echo "$(seq -s, 1 6000 | head -c 20000)" > /dev/null
/bin/echo $(for i in $(seq 1 600); do printf 'argument-%03d-of-600 ' "$i"; done) > /dev/null
exit 0
