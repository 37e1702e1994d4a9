package distributed

import (
	"cmp"
	"slices"

	"github.com/streambridge/bridge/connect/runtime"
)

// workSet is a set of connectors and tasks (Kafka's ConnectorsAndTasks).
type workSet struct {
	conns map[string]struct{}
	tasks map[runtime.TaskID]struct{}
}

func newWorkSet() workSet {
	return workSet{conns: map[string]struct{}{}, tasks: map[runtime.TaskID]struct{}{}}
}

func workOf(conns []string, tasks []runtime.TaskID) workSet {
	w := newWorkSet()
	w.add(conns, tasks)
	return w
}

func (w workSet) add(conns []string, tasks []runtime.TaskID) {
	for _, c := range conns {
		w.conns[c] = struct{}{}
	}
	for _, t := range tasks {
		w.tasks[t] = struct{}{}
	}
}

func (w workSet) addSet(o workSet) { w.add(o.connList(), o.taskList()) }

func (w workSet) empty() bool { return len(w.conns) == 0 && len(w.tasks) == 0 }

func (w workSet) hasConn(c string) bool {
	_, ok := w.conns[c]
	return ok
}

func (w workSet) hasTask(t runtime.TaskID) bool {
	_, ok := w.tasks[t]
	return ok
}

// minus returns w without anything in others.
func (w workSet) minus(others ...workSet) workSet {
	out := newWorkSet()
	for c := range w.conns {
		if !slices.ContainsFunc(others, func(o workSet) bool { return o.hasConn(c) }) {
			out.conns[c] = struct{}{}
		}
	}
	for t := range w.tasks {
		if !slices.ContainsFunc(others, func(o workSet) bool { return o.hasTask(t) }) {
			out.tasks[t] = struct{}{}
		}
	}
	return out
}

// intersect returns what w and o both hold.
func (w workSet) intersect(o workSet) workSet {
	out := newWorkSet()
	for c := range w.conns {
		if o.hasConn(c) {
			out.conns[c] = struct{}{}
		}
	}
	for t := range w.tasks {
		if o.hasTask(t) {
			out.tasks[t] = struct{}{}
		}
	}
	return out
}

func (w workSet) connList() []string {
	out := make([]string, 0, len(w.conns))
	for c := range w.conns {
		out = append(out, c)
	}
	slices.Sort(out)
	return out
}

func (w workSet) taskList() []runtime.TaskID {
	out := make([]runtime.TaskID, 0, len(w.tasks))
	for t := range w.tasks {
		out = append(out, t)
	}
	slices.SortFunc(out, compareTasks)
	return out
}

func compareTasks(a, b runtime.TaskID) int {
	if c := cmp.Compare(a.Connector, b.Connector); c != 0 {
		return c
	}
	return cmp.Compare(a.Task, b.Task)
}

// workerLoad is what one worker runs, in a stable order (Kafka's WorkerLoad).
type workerLoad struct {
	worker string
	conns  []string
	tasks  []runtime.TaskID
}

func (l *workerLoad) remove(w workSet) {
	l.conns = slices.DeleteFunc(l.conns, w.hasConn)
	l.tasks = slices.DeleteFunc(l.tasks, w.hasTask)
}

func (l *workerLoad) empty() bool { return len(l.conns) == 0 && len(l.tasks) == 0 }
