# The child half of ffi/nsclone.ts: spawn_ns(table) clones with the table's flags onto the
# table's stack and returns the pid (or -errno) in the parent. The child only makes system
# calls, reads the table and writes its error slot, then execs or exits. Assemble with
#   as nsclone.s -o nsclone.o && objcopy -O binary -j .text nsclone.o nsclone.bin
# The table, in 8-byte slots (ffi/nsclone.ts names them):
#   0 clone flags        1 stack top        2 sync fd (-1: none)   3 path   4 argv   5 envp
#   6 dup count          7 cloexec-from     8 set ids (0/1)        9 error (step<<32|errno)
#  10 read buffer       11 all signals     12 saved mask          13 empty mask
#  14-17 SIG_DFL sigaction                 18 user ns fd (-1: none)
#  19 capabilities to drop from the bounding set (bit mask)       20 uid  21 gid
#  22 group count       23 groups (gid_t array)                   24 setsid (0/1)
#  25 controlling tty fd (-1: none)         26 the sync pipe's write end, closed first
#  27 namespaces to unshare after the wait (0: none; CLONE_NEWCGROUP once in the cgroup)
#  28 capset header and data (0: none)      29 seccomp sock_fprog (0: none)
#  30 no_new_privs (0/1)                    31 working directory, a C string (0: none)
#  32 mount count                           33 mounts: 5 slots each (source, target, fstype,
#                                              flags, data), made after the unshare
#  34 cgroup file count                     35 cgroup files: open descriptors (8 bytes each)
#  36 the text written to them ("0")        37 struct clone_args for clone3 (0: clone)
#  38 cgroup namespace fd to join (-1: none) 39 parent-death signal (0: none)
#  40.. dup pairs (from, to)
# The order: wait, cgroup join, cgroup namespace join, unshare, mounts, user ns, bounding set, capset, session, dups, terminal, chdir,
# seccomp (it needs CAP_SYS_ADMIN, which the ids take away), ids, no_new_privs, the
# parent-death signal (after the ids: changing them clears it), close_range, exec: after the
# filter only what every profile must allow anyway.
	.intel_syntax noprefix
	.text
	.globl spawn_ns
spawn_ns:
	push rbx
	push r12
	mov rbx, rdi
	# block every signal on this thread; the child starts with that mask
	mov eax, 14
	mov edi, 2
	lea rsi, [rbx+88]
	lea rdx, [rbx+96]
	mov r10d, 8
	syscall
	# clone3(args, 88) when the table gives a struct clone_args (CLONE_INTO_CGROUP: the
	# child is born in its cgroup; the same flags and stack top as below), else
	# clone(flags, stack, NULL, NULL, 0). Either way the child starts below on that stack.
	mov rdi, [rbx+296]
	test rdi, rdi
	jz 16f
	mov eax, 435
	mov esi, 88
	syscall
	jmp 17f
16:	mov eax, 56
	mov rdi, [rbx]
	mov rsi, [rbx+8]
	xor edx, edx
	xor r10d, r10d
	xor r8d, r8d
	syscall
17:	test rax, rax
	jz child
	mov r12, rax
	mov eax, 14
	mov edi, 2
	lea rsi, [rbx+96]
	xor edx, edx
	mov r10d, 8
	syscall
	mov rax, r12
	pop r12
	pop rbx
	ret
child:
	# every handler back to SIG_DFL: they point into the parent's code
	mov r12d, 1
1:	mov eax, 13
	mov edi, r12d
	lea rsi, [rbx+112]
	xor edx, edx
	mov r10d, 8
	syscall
	inc r12d
	cmp r12d, 65
	jne 1b
	# step 1: wait for the parent's go-ahead byte (it writes the id maps first)
	cmp qword ptr [rbx+16], 0
	jl 3f
	# our copy of the write end would keep the read from ever seeing the parent's EOF
	mov eax, 3
	mov rdi, [rbx+208]
	syscall
	mov r12d, 1
	xor eax, eax
	mov rdi, [rbx+16]
	lea rsi, [rbx+80]
	mov edx, 1
	syscall
	cmp rax, 1
	jne fail_noerr
3:	# step 18 (+ 256 x the file's index): join the cgroup by writing "0" to each v1 tasks
	# file given. A thread that moves itself, alone, skips the kernel's global threadgroup
	# lock, whose first taking waits an RCU grace period; this process has one thread.
	xor r13d, r13d
	mov r14, [rbx+280]
14:	cmp r13, [rbx+272]
	je 15f
	mov r12, r13
	shl r12, 8
	or r12, 18
	mov eax, 1
	mov rdi, [r14]
	lea rsi, [rbx+288]
	mov edx, 1
	syscall
	cmp rax, 1
	jne fail
	inc r13
	add r14, 8
	jmp 14b
15:	# step 19: join a cgroup namespace (exec: the parent stays in its own for the clone)
	cmp qword ptr [rbx+304], 0
	jl 18f
	mov r12d, 19
	mov eax, 308
	mov rdi, [rbx+304]
	mov esi, 0x02000000
	syscall
	test rax, rax
	jnz fail
18:	# step 12: unshare what must follow the parent's go-ahead (the cgroup namespace)
	cmp qword ptr [rbx+216], 0
	je 8f
	mov r12d, 12
	mov eax, 272
	mov rdi, [rbx+216]
	syscall
	test rax, rax
	jnz fail
8:	# step 17 (+ 256 x the mount's index): the mounts only a process in the new namespaces
	# can make: its /proc (the PID namespace's), what hides parts of it, the cgroup hierarchies
	xor r13d, r13d
	mov r14, [rbx+264]
12:	cmp r13, [rbx+256]
	je 13f
	mov r12, r13
	shl r12, 8
	or r12, 17
	mov eax, 165
	mov rdi, [r14]
	mov rsi, [r14+8]
	mov rdx, [r14+16]
	mov r10, [r14+24]
	mov r8, [r14+32]
	syscall
	test rax, rax
	jnz fail
	inc r13
	add r14, 40
	jmp 12b
13:	# step 8: join a user namespace (gives a full capability set there)
	cmp qword ptr [rbx+144], 0
	jl 4f
	mov r12d, 8
	mov eax, 308
	mov rdi, [rbx+144]
	mov esi, 0x10000000
	syscall
	test rax, rax
	jnz fail
4:	# step 9: drop the masked capabilities from the bounding set
	mov r12d, 9
	xor ecx, ecx
5:	mov rax, [rbx+152]
	bt rax, rcx
	jnc 6f
	mov eax, 157
	mov edi, 24
	mov rsi, rcx
	push rcx
	syscall
	pop rcx
	test rax, rax
	jnz fail
6:	inc ecx
	cmp ecx, 64
	jne 5b
	# step 13: capset (no inheritable capabilities: none of the caller's may leak in)
	cmp qword ptr [rbx+224], 0
	je sess
	mov r12d, 13
	mov eax, 126
	mov rdi, [rbx+224]
	lea rsi, [rdi+8]
	syscall
	test rax, rax
	jnz fail
sess:	# step 10: a new session
	cmp qword ptr [rbx+192], 0
	je dups
	mov r12d, 10
	mov eax, 112
	syscall
	test rax, rax
	js fail
dups:	# step 5: dup2 each pair; dup2 onto itself keeps close-on-exec, so clear it
	xor ecx, ecx
2:	cmp rcx, [rbx+48]
	je dupsdone
	mov r12, rcx
	shl r12, 4
	add r12, rbx
	mov eax, 33
	mov rdi, [r12+320]
	mov rsi, [r12+328]
	push rcx
	syscall
	pop rcx
	test rax, rax
	js dupfail
	mov eax, 72
	mov rdi, [r12+328]
	mov esi, 2
	xor edx, edx
	push rcx
	syscall
	pop rcx
	inc rcx
	jmp 2b
dupfail:
	mov r12d, 5
	jmp fail
dupsdone:
	# step 11: the terminal becomes the controlling one (TIOCSCTTY)
	cmp qword ptr [rbx+200], 0
	jl 7f
	mov r12d, 11
	mov eax, 16
	mov rdi, [rbx+200]
	mov esi, 0x540e
	xor edx, edx
	syscall
	test rax, rax
	jnz fail
7:	# step 16: the working directory
	cmp qword ptr [rbx+248], 0
	je 9f
	mov r12d, 16
	mov eax, 80
	mov rdi, [rbx+248]
	syscall
	test rax, rax
	jnz fail
9:	# step 14: the seccomp filter (SECCOMP_SET_MODE_FILTER), while CAP_SYS_ADMIN is ours
	cmp qword ptr [rbx+232], 0
	je 10f
	mov r12d, 14
	mov eax, 317
	mov edi, 1
	xor esi, esi
	mov rdx, [rbx+232]
	syscall
	test rax, rax
	jnz fail
10:
	# steps 2-4: groups, gid, uid
	cmp qword ptr [rbx+64], 0
	je nnp
	mov r12d, 2
	mov eax, 116
	mov rdi, [rbx+176]
	mov rsi, [rbx+184]
	syscall
	test rax, rax
	jnz fail
	mov r12d, 3
	mov eax, 119
	mov rdi, [rbx+168]
	mov rsi, rdi
	mov rdx, rdi
	syscall
	test rax, rax
	jnz fail
	mov r12d, 4
	mov eax, 117
	mov rdi, [rbx+160]
	mov rsi, rdi
	mov rdx, rdi
	syscall
	test rax, rax
	jnz fail
nnp:	# step 15: no_new_privs
	cmp qword ptr [rbx+240], 0
	je 11f
	mov r12d, 15
	mov eax, 157
	mov edi, 38
	mov esi, 1
	xor edx, edx
	xor r10d, r10d
	xor r8d, r8d
	syscall
	test rax, rax
	jnz fail
11:	# step 20: the signal the child gets when the thread that cloned it ends (PR_SET_PDEATHSIG)
	cmp qword ptr [rbx+312], 0
	je 19f
	mov r12d, 20
	mov eax, 157
	mov edi, 1
	mov rsi, [rbx+312]
	xor edx, edx
	xor r10d, r10d
	xor r8d, r8d
	syscall
	test rax, rax
	jnz fail
19:	# step 6: everything above the given descriptors closes on exec
	mov r12d, 6
	mov eax, 436
	mov rdi, [rbx+56]
	mov esi, -1
	mov edx, 4
	syscall
	mov eax, 14
	mov edi, 2
	lea rsi, [rbx+104]
	xor edx, edx
	mov r10d, 8
	syscall
	# step 7: execve
	mov r12d, 7
	mov eax, 59
	mov rdi, [rbx+24]
	mov rsi, [rbx+32]
	mov rdx, [rbx+40]
	syscall
fail:
	neg rax
	shl r12, 32
	or rax, r12
	mov [rbx+72], rax
	mov eax, 60
	mov edi, 127
	syscall
	hlt
fail_noerr:
	xor eax, eax
	jmp fail
